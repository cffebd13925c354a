package run

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/scheduler"
)

// go test's -timeout D budgets a package's test binary: once its tests
// have run D in all, it panics ("panic: test timed out after D") and no
// later test runs. godist runs a package as several processes, so they
// share the budget: each process gets what the package's finished
// processes left of D as its -test.timeout; a process that times out ends
// the package's budget, its unstarted tests are not run again and the
// package's queued units are dropped, unreported, as go test never
// reaches them; its panic line names D, as go test's would. When the
// finished processes have spent D between them without one timing out,
// the package fails with go test's first line and the tests not run.
//
// The processes of a package run side by side, so the tests that get to
// run before the budget is spent can differ from go test's (which runs
// them in order); the package's outcome, a failure by timeout, is go
// test's.

// timeoutBudget returns the -test.timeout for a new process of package
// key, or ok false when the package's budget is spent. Without -timeout
// (0) every process gets 0, no timeout.
func (r *testRun) timeoutBudget(key string, u *scheduler.Unit) (d time.Duration, ok bool) {
	total := r.opts.Timeout
	if total <= 0 || u.Confirm != nil {
		return total, true // a confirm run is a run as go test's, with go test's budget
	}
	r.update(key, func(p *pkgRun) {
		d = total - p.consumed
		ok = !p.timedOut && d > 0
	})
	return d, ok
}

// spendBudget books one finished process of package key: its wall time,
// and whether it timed out (the testing package's panic in its output).
func (r *testRun) spendBudget(key string, wall time.Duration, timedOut bool) {
	if r.opts.Timeout <= 0 {
		return
	}
	r.update(key, func(p *pkgRun) {
		p.consumed += wall
		p.timedOut = p.timedOut || timedOut
	})
}

// budgetSpent ends unit u of package key, whose budget is spent, as go
// test would: its tests do not run and are not reported.
func (r *testRun) budgetSpent(key string, u *scheduler.Unit) {
	r.update(key, func(p *pkgRun) { p.notReached = append(p.notReached, u.Tests...) })
	r.unitDone(key, false)
}

// budgetFailure is the failure of package key, as it ends, whose budget
// its processes spent between them without one timing out: go test would
// have timed out. "" when there is none.
func (r *testRun) budgetFailure(key string) string {
	var why string
	r.update(key, func(p *pkgRun) {
		if p.timedOut || len(p.notReached) == 0 {
			return
		}
		why = fmt.Sprintf("panic: test timed out after %v\n"+
			"godist: the package's processes ran %v between them; not reached: %s",
			r.opts.Timeout, r.opts.Timeout, strings.Join(p.notReached, " "))
	})
	return why
}

// panicRewriter passes a process's output through, rewriting the testing
// package's timeout panic line to name the package's budget rather than
// the process's share of it.
type panicRewriter struct {
	w        io.Writer
	from, to []byte
	held     []byte // a tail that may be the start of from
}

func newPanicRewriter(w io.Writer, process, pkg time.Duration) *panicRewriter {
	return &panicRewriter{w: w, from: []byte(collector.TimeoutPanic + process.String() + "\n"), to: []byte(collector.TimeoutPanic + pkg.String() + "\n")}
}

func (pw *panicRewriter) Write(p []byte) (int, error) {
	data := append(pw.held, p...)
	pw.held = nil
	data = bytes.ReplaceAll(data, pw.from, pw.to)
	// Keep back a tail that could begin the panic line.
	for k := min(len(pw.from)-1, len(data)); k > 0; k-- {
		if bytes.HasPrefix(pw.from, data[len(data)-k:]) {
			pw.held = append([]byte{}, data[len(data)-k:]...)
			data = data[:len(data)-k]
			break
		}
	}
	if _, err := pw.w.Write(data); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush writes what is held back; call it when the process's output ends.
func (pw *panicRewriter) flush() {
	if len(pw.held) > 0 {
		pw.w.Write(pw.held)
		pw.held = nil
	}
}
