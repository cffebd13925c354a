package scheduler

import (
	"regexp"
	"strings"
	"time"

	"github.com/godist/godist/collector"
)

// ResultFromEvents turns the events of one test process (one unit) into a
// ProcessResult for History.Record. procStart is when the process was
// started; start-up is the time to the first test's run event.
//
// go test's Elapsed has a resolution of 10ms; for tests reported as
// 0.00s the time between the run and the terminal event is used instead
// (capped at 10ms), so that thousands of tiny tests are not all free.
func ResultFromEvents(procStart time.Time, events []collector.Event) ProcessResult {
	var r ProcessResult
	runAt := map[string]time.Time{}
	for _, e := range events {
		if e.Test == "" {
			continue
		}
		switch e.Action {
		case "run":
			if e.Time != nil {
				if r.Startup == 0 && !procStart.IsZero() && e.Time.After(procStart) {
					r.Startup = e.Time.Sub(procStart)
				}
				runAt[e.Test] = *e.Time
			}
		case "pass", "fail", "skip":
			if e.Elapsed == nil {
				continue
			}
			d := time.Duration(*e.Elapsed * float64(time.Second))
			if d < 10*time.Millisecond && e.Time != nil {
				if t0, ok := runAt[e.Test]; ok {
					d = min(max(d, e.Time.Sub(t0)), 10*time.Millisecond)
				}
			}
			r.Tests = append(r.Tests, TestResult{Name: e.Test, Elapsed: d})
		}
	}
	return r
}

// ExactPattern returns a -test.run pattern selecting exactly one test at
// any depth, given its name split into levels as the binary reports it
// ("TestX/case_1#01" → ["TestX", "case_1#01"]): `^TestX$/^case_1#01$`.
// The binary matches levels against deduplicated, rewritten names, so
// names with '#NN' suffixes or rewritten spaces select exactly. A level
// the pattern syntax cannot carry (none known) makes ok false; the caller
// then runs the whole parent.
func ExactPattern(levels []string) (pattern string, ok bool) {
	parts := make([]string, len(levels))
	for i, l := range levels {
		if l != rewrite(l) {
			return "", false // not a name the binary reports
		}
		parts[i] = "^" + regexp.QuoteMeta(l) + "$"
	}
	p := strings.Join(parts, "/")
	if got := splitPattern(p); len(got) != 1 || len(got[0]) != len(levels) {
		return "", false
	}
	return p, true
}
