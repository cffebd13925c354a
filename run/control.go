package run

import (
	"fmt"
	"slices"
)

// rerunsFor picks the failed top-level tests of pkg that --rerun-fails
// runs again, and notes them as flaky candidates.
func (r *testRun) rerunsFor(pkg string, failed []string) []string {
	if r.opts.RerunFails == 0 || len(failed) == 0 {
		return nil
	}
	var again []string
	r.update(pkg, func(p *pkgRun) {
		for _, name := range failed {
			if t := p.test(name); t.reruns < r.opts.RerunFails {
				t.reruns++
				again = append(again, name)
			}
		}
	})
	return again
}

// flaky lists "pkg TestX" for tests that failed and then passed on a rerun.
func (r *testRun) flaky() []string {
	var out []string
	for _, key := range r.keys {
		r.update(key, func(p *pkgRun) {
			for name, t := range p.tests {
				if t.reruns > 0 && t.last == "pass" {
					out = append(out, key+" "+name)
				}
			}
		})
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
func (r *testRun) countFailures(key string, failed []string) {
	if len(failed) == 0 {
		return
	}
	var total int
	r.update(key, func(p *pkgRun) {
		r.failedTests += len(failed)
		total = r.failedTests
		if !r.opts.Failfast {
			return
		}
		for _, name := range failed {
			if i, ok := p.order[name]; ok && (p.failfastAt < 0 || i < p.failfastAt) {
				p.failfastAt = i
			}
		}
	})
	if r.opts.MaxFail > 0 && total >= r.opts.MaxFail {
		r.stopScheduling()
	}
}

// failfastKeep is the part of tests that go test would still run in
// package key after -failfast stopped it: those before the first failed
// test in go test's order. All of them when nothing failed.
func (r *testRun) failfastKeep(key string, tests []string) []string {
	if !r.opts.Failfast {
		return tests
	}
	keep := tests
	r.update(key, func(p *pkgRun) {
		if p.failfastAt < 0 {
			return
		}
		keep = nil
		for _, name := range tests {
			if i, ok := p.order[name]; ok && i < p.failfastAt {
				keep = append(keep, name)
			}
		}
	})
	return keep
}
