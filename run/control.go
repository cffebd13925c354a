package run

import (
	"fmt"
	"slices"
	"strings"
)

// rerunsFor picks the failed top-level tests of pkg that --rerun-fails
// runs again, and notes them as flaky candidates.
func (r *testRun) rerunsFor(pkg string, failed []string) []string {
	if r.opts.RerunFails == 0 || len(failed) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var again []string
	for _, name := range failed {
		key := pkg + "\x00" + name
		if r.reruns[key] < r.opts.RerunFails {
			r.reruns[key]++
			again = append(again, name)
		}
	}
	return again
}

// flaky lists "pkg TestX" for tests that failed and then passed on a rerun.
func (r *testRun) flaky() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for key := range r.reruns {
		pkg, name, _ := strings.Cut(key, "\x00")
		if r.lastOutcome[pkg+" "+name] == "pass" {
			out = append(out, pkg+" "+name)
		}
	}
	slices.Sort(out)
	return out
}

// errStopped says scheduling stopped on --maxfail.
type errStopped struct{ failures int }

func (e *errStopped) Error() string {
	return fmt.Sprintf("stopped after %d failed tests (--maxfail)", e.failures)
}

func (r *testRun) failStop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &errStopped{failures: r.failedTests}
}

// countFailures notes the failed top-level tests of one process of
// package key (pkg as reported; path its import path). --maxfail is
// godist's run-wide budget: scheduling stops when it is spent. -failfast
// is go test's, per package binary: after a failure the package's tests
// that come later in go test's order do not run (and are not reported, as
// under go test); other packages run on.
func (r *testRun) countFailures(key, path string, failed []string) {
	if len(failed) == 0 {
		return
	}
	r.mu.Lock()
	r.failedTests += len(failed)
	total := r.failedTests
	if r.opts.Failfast {
		for _, name := range failed {
			i, ok := r.order[path][name]
			if !ok {
				continue
			}
			if at, seen := r.failfastAt[key]; !seen || i < at {
				r.failfastAt[key] = i
			}
		}
	}
	r.mu.Unlock()
	if r.opts.MaxFail > 0 && total >= r.opts.MaxFail {
		r.stopScheduling()
	}
}

// failfastKeep is the part of tests that go test would still run in
// package key after -failfast stopped it: those before the first failed
// test in go test's order. All of them when nothing failed.
func (r *testRun) failfastKeep(key, path string, tests []string) []string {
	if !r.opts.Failfast {
		return tests
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at, stopped := r.failfastAt[key]
	if !stopped {
		return tests
	}
	var keep []string
	for _, name := range tests {
		if i, ok := r.order[path][name]; ok && i < at {
			keep = append(keep, name)
		}
	}
	return keep
}
