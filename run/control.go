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

// errStopped says scheduling stopped on -failfast or --maxfail.
type errStopped struct{ failures int }

func (e *errStopped) Error() string {
	return fmt.Sprintf("stopped after %d failed tests (-failfast/--maxfail)", e.failures)
}

func (r *testRun) failStop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &errStopped{failures: r.failedTests}
}

// countFailures notes failed top-level tests of one process and stops
// scheduling when -failfast or --maxfail says so.
func (r *testRun) countFailures(n int) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	r.failedTests += n
	total := r.failedTests
	r.mu.Unlock()
	if (r.opts.Failfast && total > 0) || (r.opts.MaxFail > 0 && total >= r.opts.MaxFail) {
		r.stopScheduling()
	}
}
