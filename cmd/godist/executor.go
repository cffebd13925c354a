package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/godist/godist/scheduler"
)

// executor runs units on workers for the dispatcher: one test process per
// unit, its output converted by the package's merger as it arrives.
type executor struct {
	run     *testRun
	runners []procRunner
}

func (x *executor) Execute(ctx context.Context, w int, u *scheduler.Unit) ([]string, error) {
	r := x.run
	pkg := u.Pkg.ImportPath
	r.mu.Lock()
	bin := r.binaries[pkg]
	r.stats.TestProcesses++
	n := r.stats.TestProcesses
	r.mu.Unlock()

	m := r.mergers[pkg]
	m.Start()
	conv := m.NewProcess(u.Tests, true)
	cover := ""
	if r.coverage != nil {
		cover = r.scratch(fmt.Sprintf("cover-%d.out", n))
	}
	start := time.Now()
	sw := &startupWriter{w: conv, start: start}
	res, err := x.runners[w].runProc(ctx, procRequest{Argv: r.argv(bin, u, cover), Dir: u.Pkg.Dir}, sw)
	if err != nil {
		// The worker broke, not the test: take back what did not finish.
		pr := conv.Abort(fmt.Sprintf("godist: worker gw%d lost: %v", w, err))
		notRun := append([]string{}, pr.Requeue...)
		r.unitDone(u, len(notRun) > 0 || len(u.Tests) == 0)
		if ctx.Err() == nil {
			fmt.Fprintf(r.stderr, "godist: worker gw%d lost, its work goes to the others: %v\n", w, err)
		}
		return notRun, fmt.Errorf("worker gw%d: %w", w, err)
	}
	pr := conv.Finish(res.ExitCode, "")
	if d, ok := sw.startup(); ok {
		r.mu.Lock()
		r.startups[pkg] = append(r.startups[pkg], d)
		r.mu.Unlock()
	}
	if cover != "" {
		if err := r.coverage.add(pkg, cover); err != nil {
			m.Fail("godist: coverage: " + err.Error())
		}
	}
	// Requeue holds the tests an abnormal end kept from running; after a
	// clean end (-failfast, a name the binary lacks) nothing goes round.
	notRun := pr.Requeue
	if len(pr.Started) == 0 {
		// Nothing started: the binary failed before its first test
		// (init, TestMain). go test reports that as a package failure;
		// running the same binary again would fail the same way.
		notRun = nil
	}
	r.unitDone(u, len(notRun) > 0)
	return notRun, nil
}

// argv is the command line of one test process of unit u.
func (r *testRun) argv(bin string, u *scheduler.Unit, cover string) []string {
	o := r.opts
	a := []string{bin}
	a = append(a, o.testFlags...)
	if o.listSet {
		a = append(a, "-test.list="+o.list)
	} else {
		a = append(a, "-test.run="+r.filter.RunArg(u.Tests))
	}
	a = append(a, "-test.timeout="+o.timeout.String(), "-test.paniconexit0")
	if cover != "" {
		a = append(a, "-test.coverprofile="+cover)
	}
	if !o.listSet {
		// Last, so nothing the user passes can turn off the framing.
		a = append(a, "-test.v=test2json")
	}
	return append(a, o.testArgs...)
}

// startupWriter passes output through and notes when the first test began:
// the time before it is the binary's start-up (init, TestMain's setup).
type startupWriter struct {
	w     io.Writer
	start time.Time

	mu    sync.Mutex
	first time.Duration
}

var runMarker = []byte("=== RUN")

func (s *startupWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.first == 0 && bytes.Contains(p, runMarker) {
		s.first = time.Since(s.start)
	}
	s.mu.Unlock()
	return s.w.Write(p)
}

func (s *startupWriter) startup() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first, s.first > 0
}
