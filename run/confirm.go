package run

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/godist/godist/scheduler"
)

// Failure confirmation. godist runs several processes of one package at
// once, each with a part of its tests; go test runs one, with all of them
// in order. A test that fails under godist but not under go test (a fixed
// port two processes bind, a file in the package directory, state an
// earlier test leaves behind) would be a red run the user did not deserve.
// So a failure counts only when it happened as go test would have run the
// test, or when a confirm run repeats it: once the package's other
// processes have ended, one process runs the failed tests with every test
// go test runs before them, in go test's order. If a failed test passes
// there, its outcome is go test's: the first failure stays in the stream
// like a rerun's, the package passes, and the run's summary names the test.
//
// Cost: one process per package with unconfirmed failures, running the
// package's tests up to its last failed one: at most the package's own
// serial time, and nothing for a failure that already happened as go test
// runs it (a package run as one process, whole, with nothing beside it).

// procRec is one running test process of a package, for knowing whether
// another process of the package ran beside it.
type procRec struct {
	overlapped bool
}

// procBegin notes a process of package key starting.
func (r *testRun) procBegin(key string) *procRec {
	rec := &procRec{}
	r.update(key, func(p *pkgRun) {
		for other := range p.running {
			other.overlapped = true
			rec.overlapped = true
		}
		p.running[rec] = true
	})
	return rec
}

// procEnd notes its end and the outcomes of its top-level tests. A
// failure that did not happen as go test runs the test waits for a
// confirm run: when another process of the package ran beside it, when
// its process did not run every test go test runs before it, or when it
// ran in part (split below the top level, requeued after a crash).
func (r *testRun) procEnd(key string, rec *procRec, u *scheduler.Unit, outcomes map[string]string) {
	r.update(key, func(p *pkgRun) {
		delete(p.running, rec)
		var failed []string
		for name, outcome := range outcomes {
			if outcome == "" || strings.Contains(name, "/") {
				continue
			}
			p.test(name).ran = outcome
			if outcome == "fail" {
				failed = append(failed, name)
			}
		}
		if u.Confirm != nil {
			return
		}
		ran := map[string]bool{}
		for _, name := range u.Tests {
			ran[name] = true
		}
		partial := rec.overlapped || u.Attempt > 0 || len(u.Subtests) > 0 || len(u.SkipSubtests) > 0
		for _, name := range failed {
			asGoTest := !partial
			if i, ok := p.order[name]; ok && asGoTest {
				for _, before := range p.names[:i] {
					asGoTest = asGoTest && ran[before]
				}
			}
			if !asGoTest {
				p.test(name).unconfirmed = true
			}
		}
	})
}

// confirmUnit is the confirm run of package key when it has failures to
// confirm, else nil; called as its last unit ends, with no other process
// of the package running. Not under -failfast (go test would have stopped
// at the first failure and run nothing after it), and not for tests run
// split below the top level (their parts are one test to the merger).
func (r *testRun) confirmUnit(key string) *scheduler.Unit {
	if r.opts.Failfast || r.opts.ListSet || r.dispatchDone() {
		return nil
	}
	var u *scheduler.Unit
	r.update(key, func(p *pkgRun) {
		if p.confirming || p.timedOut || len(p.notReached) > 0 {
			return // -timeout ended the package: it fails as go test's would
		}
		var confirm []string
		last := -1
		for _, name := range p.names {
			t := p.tests[name]
			if t == nil || !t.unconfirmed || t.split || t.ran != "fail" {
				continue
			}
			confirm = append(confirm, name)
			last = max(last, p.order[name])
		}
		if len(confirm) == 0 {
			return
		}
		p.confirming, p.waiting = true, true
		p.left++
		for _, name := range confirm {
			p.tests[name].confirm = true
		}
		tests := slices.Clone(p.names[:last+1])
		var est time.Duration
		for _, e := range p.events(tests) {
			est += e
		}
		u = &scheduler.Unit{ID: -1, Pkg: p.pkg, Tests: tests, Confirm: confirm, Estimate: est}
		r.stats.ConfirmRuns++
	})
	if u != nil {
		r.pkgs[key].merger.SetReruns()
	}
	return u
}

// events are the durations this run measured for tests, for an estimate.
func (p *pkgRun) events(tests []string) []time.Duration {
	want := map[string]bool{}
	for _, t := range tests {
		want[t] = true
	}
	var out []time.Duration
	for _, e := range p.results {
		if e.Elapsed != nil && want[e.Test] {
			out = append(out, time.Duration(*e.Elapsed*float64(time.Second)))
		}
	}
	return out
}

// learn records in the history what package p's confirm run taught: tests
// that failed beside other processes of the package and passed as go test
// runs them make it run whole from the next run on; a passing whole run
// counts towards lifting that mark (scheduler.WholeCleanRuns). Under r.mu.
func (r *testRun) learn(p *pkgRun) {
	var collided []string
	for _, name := range p.names {
		if t := p.tests[name]; t != nil && t.confirm && t.ran == "pass" {
			collided = append(collided, name)
		}
	}
	switch {
	case len(collided) > 0:
		r.hist.MarkWhole(p.path, collided, time.Now())
	case p.result == "pass" && r.hist.Whole(p.path):
		r.hist.NoteWholeRun(p.path)
	}
}

// dispatchDone says scheduling has stopped (--maxfail, an interrupt):
// no confirm runs then.
func (r *testRun) dispatchDone() bool {
	return r.dispatchCtx != nil && r.dispatchCtx.Err() != nil
}

// confirmedPasses lists "pkg\tTestX" for tests that failed beside other
// processes of their package and passed in its confirm run.
func (r *testRun) confirmedPasses() []string {
	var out []string
	for _, key := range r.keys {
		r.update(key, func(p *pkgRun) {
			for _, name := range p.names {
				if t := p.tests[name]; t != nil && t.confirm && t.ran == "pass" {
					out = append(out, key+"\t"+name)
				}
			}
		})
	}
	return out
}

// printConfirmed tells which failures the confirm runs did not repeat,
// after the run's text (as the flaky tests of --rerun-fails); in -json
// mode the stream shows them, a failure followed by a pass, and stdout
// and stderr carry nothing else (gotestsum counts stderr lines as errors).
func (r *testRun) printConfirmed() {
	passed := r.confirmedPasses()
	r.mu.Lock()
	r.stats.ConfirmedPasses = len(passed)
	r.mu.Unlock()
	if len(passed) == 0 || r.opts.JSON {
		return
	}
	fmt.Fprintf(r.stdout, "godist: %d tests failed beside other processes of their package, passed as go test runs them:\n\t%s\n",
		len(passed), strings.Join(passed, "\n\t"))
}
