package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/bundle"
	"github.com/godist/godist/collector"
	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/scheduler"
	"github.com/godist/godist/workers"
)

// executor runs units on workers for the dispatcher: one test process per
// unit, its output converted by the package's merger as it arrives.
type executor struct {
	run  *testRun
	pool *workerPool
	// procCtx bounds test processes: the run's context, not the
	// dispatcher's, so that -failfast lets running batches finish.
	procCtx context.Context
	lane    *lane // w indexes lane.slots
}

func (x *executor) Execute(_ context.Context, laneSlot int, u *scheduler.Unit) ([]string, error) {
	r := x.run
	ctx := x.procCtx
	w := x.lane.slots[laneSlot]
	key := u.Pkg.ImportPath + x.lane.suffix // the package as reported
	pkg := u.Pkg.ImportPath
	if len(u.Tests) > 0 && u.Confirm == nil {
		// -failfast: what go test would no longer run in this package
		// after a failure is left out, silently, as go test leaves it.
		keep := r.failfastKeep(key, u.Tests)
		if len(keep) == 0 {
			r.unitDone(key, false)
			return nil, nil
		}
		if len(keep) < len(u.Tests) {
			c := *u
			c.Tests = keep
			u = &c
		}
	}
	timeout, ok := r.timeoutBudget(key, u)
	if !ok {
		r.budgetSpent(key, u)
		return nil, nil
	}
	var bin string
	var n int
	r.update(key, func(p *pkgRun) {
		bin = p.binary
		r.stats.TestProcesses++
		n = r.stats.TestProcesses
	})

	m := r.pkgs[key].merger
	m.Start()
	var conv *collector.ProcessConverter
	if u.Confirm != nil {
		conv = m.NewConfirmProcess(u.Tests, u.Confirm)
	} else {
		conv = m.NewProcess(u.Tests, true)
	}
	cover := ""
	if r.coverage != nil {
		cover = r.scratch(fmt.Sprintf("cover-%d.out", n))
	}
	start := time.Now()
	panics := newPanicRewriter(conv, timeout, r.opts.Timeout)
	watch := newTestWatch(panics, start)
	testlog := ""
	if r.cache != nil {
		testlog = r.scratch(fmt.Sprintf("testlog-%d.txt", n))
	}
	req := workers.Request{Argv: r.argv(bin, u, cover, timeout, testlog), Dir: u.Pkg.Dir, Env: r.testEnv(w, x.pool.size())}
	if cover != "" {
		os.Mkdir(coverDir(cover), 0o777)
		defer os.RemoveAll(coverDir(cover))
		req.Env = append(req.Env, "GOCOVERDIR="+coverDir(cover))
	}
	req.Deadline, req.WaitDelay = killTimeout(timeout)
	req.QuitGrace = testTimeoutGrace
	// Isolated unless the run says not, the history says the package runs
	// as go test runs it, or this is a confirm run (go test's conditions).
	req.Isolate = r.isolating() && u.Confirm == nil && !r.pkgs[key].whole
	runner := x.pool.runner(w)
	// A test that kills its parent must not take the controller down, nor
	// worker after worker: guarded here, and on workers once a worker was
	// lost to the package.
	_, local := runner.(workers.Local)
	r.update(key, func(p *pkgRun) { req.Guard = local || p.guard })
	if gr, ok := runner.(*workers.Remote); ok && r.opts.WorkerAttr {
		conv.SetWorker(gr.Gateway().ID())
	}
	if gr, ok := runner.(*workers.Remote); ok && gr.ShipsBundles {
		// Run from the bundle on the worker's machine, not from our paths,
		// with a binary built for that machine.
		var err error
		if gr.Platform != hostPlatform {
			bin, err = r.crossBuild(ctx, u.Pkg, gr.Platform)
		}
		var b *bundle.Bundle
		if err == nil {
			b, err = r.bundles.Get(pkg+" "+gr.Platform, bin, u.Pkg.Dir)
		}
		var dir string
		var shipped int64
		if err == nil {
			dir, shipped, err = gr.Ensure(ctx, b)
		}
		r.mu.Lock()
		r.stats.BytesShipped += shipped
		r.mu.Unlock()
		if err != nil {
			conv.Abort("godist: " + err.Error())
			if ctx.Err() == nil && x.pool.replace(ctx, w, err) {
				r.unitDone(key, len(u.Tests) > 0)
				return append([]string{}, u.Tests...), nil
			}
			r.unitDone(key, true) // the dispatcher requeues all of u
			return nil, err
		}
		req.Argv[0] = dir + "/" + bundle.Binary
		req.Dir = path.Join(dir, bundle.PkgDir, b.PkgRel)
		if cover != "" {
			// No GOCOVERDIR of ours on that machine.
			req.Argv = slices.DeleteFunc(req.Argv, func(a string) bool { return a == "-test.gocoverdir="+coverDir(cover) })
			req.Env = slices.DeleteFunc(req.Env, func(e string) bool { return e == "GOCOVERDIR="+coverDir(cover) })
		}
		if testlog != "" {
			// The testlog would stay on that machine: no caching.
			req.Argv = slices.DeleteFunc(req.Argv, func(a string) bool { return a == "-test.testlogfile="+testlog })
			testlog = ""
			r.update(key, func(p *pkgRun) { p.noCache = true })
		}
	}
	var stopWatchdog func() string
	if r.opts.TestTimeout > 0 {
		kill := make(chan proc.Sig, 1)
		req.Kill = kill
		stopWatchdog = watch.watchdog(r.opts.TestTimeout, kill)
	}
	r.progress.begin(w, pkg, u.Tests)
	rec := r.procBegin(key)
	res, err := runner.Run(ctx, req, watch)
	panics.flush()
	wall := time.Since(start)
	r.noteBusy(w, time.Since(start), len(u.Tests))
	if strings.HasPrefix(res.Isolation, "net-") {
		r.update(key, func(*pkgRun) { r.stats.IsolatedProcs++ })
	}
	overdue := ""
	if stopWatchdog != nil {
		overdue = stopWatchdog()
	}
	if err != nil {
		// The worker broke, not the test: take back what did not finish.
		// The rest of the package runs guarded, in case a test broke it.
		r.procEnd(key, rec, u, nil)
		r.update(key, func(p *pkgRun) { p.guard = true })
		if testlog != "" {
			// What the tests that finished there consulted is not known.
			os.Remove(testlog)
			r.update(key, func(p *pkgRun) { p.noCache = true })
		}
		r.spendBudget(key, wall, false)
		pr := conv.Abort(fmt.Sprintf("godist: worker gw%d lost: %v", w, err))
		notRun := append([]string{}, pr.Requeue...)
		if u.Confirm != nil && len(notRun) > 0 {
			notRun = slices.Clone(u.Tests) // a confirm run runs whole or not at all
		}
		r.progress.end(w, len(u.Tests)-len(notRun), 0, 0)
		requeued := len(notRun) > 0 || len(u.Tests) == 0
		r.unitDone(key, requeued)
		if ctx.Err() != nil {
			return notRun, err
		}
		if x.pool.replace(ctx, w, err) {
			if len(u.Tests) == 0 && len(notRun) == 0 {
				// Nothing to requeue by name: run the unit again as it was.
				r.unitDone(key, false)
			}
			return notRun, nil
		}
		return notRun, fmt.Errorf("worker gw%d: %w", w, err)
	}
	reason := r.endReason(overdue, res, req)
	pr := conv.Finish(res.ExitCode, reason)
	r.noteTestlog(key, testlog, req.Dir)
	r.spendBudget(key, wall, pr.TimedOut)
	if res.IOIncomplete {
		// A child of the test kept its output open: go test fails the
		// package after its WaitDelay, in these words.
		m.Fail(ioIncomplete(req.WaitDelay))
	}
	if d, ok := watch.startup(); ok {
		r.update(key, func(p *pkgRun) { p.startups = append(p.startups, d) })
	}
	if cover != "" {
		if err := r.coverage.add(key, cover); err != nil {
			m.Fail("godist: coverage: " + err.Error())
		}
	}
	var failed []string
	for name, outcome := range conv.Tests() {
		if outcome == "fail" && !strings.Contains(name, "/") {
			failed = append(failed, name)
		}
	}
	r.procEnd(key, rec, u, conv.Tests())
	if u.Confirm != nil {
		// Its failures were counted when they first happened; what did
		// not run after a crash keeps its first outcome.
		r.unitDone(key, false)
		r.progress.end(w, len(u.Tests), 0, u.Estimate)
		return nil, nil
	}
	r.countFailures(key, failed)
	// Requeue holds the tests an abnormal end kept from running; after a
	// clean end (-failfast, a name the binary lacks) nothing goes round.
	notRun := pr.Requeue
	if pr.TimedOut {
		// The package's -timeout is spent: go test runs nothing more.
		notRun = nil
	}
	if len(pr.Started) == 0 {
		// Nothing started: the binary failed before its first test
		// (init, TestMain). go test reports that as a package failure;
		// running the same binary again would fail the same way.
		notRun = nil
	}
	notRun = append(notRun, r.rerunsFor(key, failed)...)
	r.unitDone(key, len(notRun) > 0)
	r.progress.end(w, len(u.Tests)-len(pr.Requeue), len(failed), u.Estimate)
	return notRun, nil
}

// endReason explains an abnormal end of a test process that godist
// stopped: overdue names the test --test-timeout stopped, res.TimedOut a
// process past its kill deadline. "" for every other end.
func (r *testRun) endReason(overdue string, res workers.Result, req workers.Request) string {
	switch {
	case res.ParentKilled:
		return fmt.Sprintf("godist: the test binary's parent, godist's guard, was killed (signal: %s), by a test most likely; the test binary died with it", res.Signal)
	case overdue != "" && res.Signal == "killed":
		return fmt.Sprintf("test %s ran longer than --test-timeout %v: it did not stop on SIGQUIT, killed %v later", overdue, r.opts.TestTimeout, req.QuitGrace)
	case overdue != "":
		return fmt.Sprintf("test %s ran longer than --test-timeout %v: stopped with a goroutine dump", overdue, r.opts.TestTimeout)
	case res.TimedOut && res.Signal == "killed":
		// go test's words when its kill timeout ends a binary (one that
		// hung outside any test's -test.timeout, TestMain say).
		return fmt.Sprintf("*** Test killed: ran too long (%v).", req.Deadline)
	case res.TimedOut:
		return fmt.Sprintf("*** Test killed with quit: ran too long (%v).", req.Deadline)
	}
	return ""
}

// ioIncomplete is go test's failure, after its WaitDelay, of a package
// whose test process left a child holding its output open.
func ioIncomplete(waitDelay time.Duration) string {
	return fmt.Sprintf("*** Test I/O incomplete %v after exiting.\nexec: WaitDelay expired before I/O complete", waitDelay)
}

// The environment every test process gets, so that tests can share out
// ports, databases or directories among the processes of one run: the
// worker that runs it (gw3), how many workers the run has, and an id of
// the run, the same in all its processes (pytest-xdist's
// PYTEST_XDIST_WORKER, PYTEST_XDIST_WORKER_COUNT and testrun_uid).
const (
	EnvWorker      = "GODIST_WORKER"
	EnvWorkerCount = "GODIST_WORKER_COUNT"
	EnvRunID       = "GODIST_RUN_ID"
)

func (r *testRun) testEnv(worker, workers int) []string {
	return []string{
		fmt.Sprintf("%s=gw%d", EnvWorker, worker),
		fmt.Sprintf("%s=%d", EnvWorkerCount, workers),
		EnvRunID + "=" + r.runID,
	}
}

// testTimeoutGrace is how long a test stopped by --test-timeout has to
// dump its goroutines and exit before it is killed.
const testTimeoutGrace = 5 * time.Second

// killTimeout is go test's deadline for a test binary run with -timeout d
// (cmd/go: the binary panics itself at d; the go command sends SIGQUIT one
// minute later, or one WaitDelay later when that is longer, and kills it
// one WaitDelay after that) and its WaitDelay: d/10, at least 5s. No
// deadline without a timeout.
func killTimeout(d time.Duration) (deadline, waitDelay time.Duration) {
	waitDelay = max(d/10, 5*time.Second)
	if d <= 0 {
		return 0, waitDelay
	}
	return d + max(time.Minute, waitDelay), waitDelay
}

// argv is the command line of one test process of unit u.
func (r *testRun) argv(bin string, u *scheduler.Unit, cover string, timeout time.Duration, testlog string) []string {
	o := r.opts
	a := []string{bin}
	a = append(a, o.TestFlags...)
	switch {
	case o.ListSet:
		a = append(a, "-test.list="+o.List)
	case len(u.Subtests) > 0:
		// One part of a test split below the top level.
		a = append(a, "-test.run="+scheduler.SubtestPattern(u.Tests[0], u.Subtests))
	case len(u.SkipSubtests) > 0:
		// The part that runs what the other parts do not: later -test.skip wins.
		a = append(a, "-test.run="+r.filter.RunArg(u.Tests),
			"-test.skip="+scheduler.SubtestSkip(r.filter.SkipArg(), u.Tests[0], u.SkipSubtests))
	default:
		a = append(a, "-test.run="+r.filter.RunArg(u.Tests))
	}
	a = append(a, "-test.timeout="+timeout.String(), "-test.paniconexit0")
	if cover != "" {
		// As go test: the counters of the processes the test starts
		// (built with coverage) count too (coverDir).
		a = append(a, "-test.coverprofile="+cover, "-test.gocoverdir="+coverDir(cover))
	}
	if testlog != "" {
		a = append(a, "-test.testlogfile="+testlog)
	}
	if !o.ListSet {
		// Last, so nothing the user passes can turn off the framing.
		a = append(a, "-test.v=test2json")
	}
	return append(a, o.TestArgs...)
}

// testWatch passes a process's output through and follows which top-level
// tests are running: for the start-up cost (the time before the first test)
// and for --test-timeout.
type testWatch struct {
	w     io.Writer
	start time.Time

	mu      sync.Mutex
	first   time.Duration
	partial []byte               // an unfinished line
	running map[string]time.Time // top-level test -> when it started
}

func newTestWatch(w io.Writer, start time.Time) *testWatch {
	return &testWatch{w: w, start: start, running: map[string]time.Time{}}
}

func (t *testWatch) Write(p []byte) (int, error) {
	t.mu.Lock()
	data := append(t.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		t.line(data[:i])
		data = data[i+1:]
	}
	if len(data) > 4096 {
		data = data[:0] // no framing line is that long
	}
	t.partial = append(t.partial[:0], data...)
	t.mu.Unlock()
	return t.w.Write(p)
}

// line notes test2json framing lines: "=== RUN   TestX", "--- PASS: TestX (0.00s)".
func (t *testWatch) line(l []byte) {
	l = bytes.TrimLeft(bytes.TrimPrefix(l, []byte{0x16}), " ")
	switch {
	case bytes.HasPrefix(l, []byte("=== RUN   ")):
		name := string(bytes.TrimSpace(l[len("=== RUN   "):]))
		if t.first == 0 {
			t.first = time.Since(t.start)
		}
		if !strings.Contains(name, "/") {
			t.running[name] = time.Now()
		}
	case bytes.HasPrefix(l, []byte("--- ")):
		if _, rest, ok := bytes.Cut(l, []byte(": ")); ok {
			name, _, _ := bytes.Cut(rest, []byte(" ("))
			delete(t.running, string(name))
		}
	}
}

func (t *testWatch) startup() (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first, t.first > 0
}

// watchdog sends "QUIT" on kill once a top-level test has run longer than
// limit. The returned stop function ends it and names the test it stopped.
func (t *testWatch) watchdog(limit time.Duration, kill chan<- proc.Sig) (stop func() string) {
	done := make(chan struct{})
	var overdue string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(min(limit/4, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				t.mu.Lock()
				for name, since := range t.running {
					if now.Sub(since) > limit && overdue == "" {
						overdue = name
					}
				}
				t.mu.Unlock()
				if overdue != "" {
					kill <- proc.Quit
					return
				}
			}
		}
	}()
	return func() string {
		close(done)
		wg.Wait()
		return overdue
	}
}
