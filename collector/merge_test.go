package collector

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
)

// batchRun is one process of a package: the tests it asks for.
type batchRun struct {
	tests []string
}

func (b batchRun) pattern() string {
	return "^(" + strings.Join(b.tests, "|") + ")$"
}

// mergeBatches runs each batch as its own process of pkg's binary (in
// parallel if concurrent) and merges them.
func mergeBatches(t *testing.T, pkg string, batches []batchRun, concurrent, hold bool) ([]Event, *Merger) {
	t.Helper()
	var mu sync.Mutex
	var events []Event
	m := NewMerger(fixModule+"/"+pkg, fakeClock(), func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	})
	m.Start()
	// Processes are run first, then fed concurrently in small chunks, so
	// the batches' events interleave.
	outs := make([][]byte, len(batches))
	codes := make([]int, len(batches))
	for i, b := range batches {
		outs[i], codes[i] = runFixture(t, pkg, b.pattern())
	}
	if concurrent {
		var wg sync.WaitGroup
		for i := range batches {
			wg.Go(func() {
				c := m.NewProcess(batches[i].tests, hold)
				for b := outs[i]; len(b) > 0; {
					k := min(len(b), 5)
					c.Write(b[:k])
					b = b[k:]
				}
				c.Finish(codes[i], "")
			})
		}
		wg.Wait()
	} else {
		// Round robin in small chunks: the batches' events interleave.
		convs := make([]*ProcessConverter, len(batches))
		for i := range batches {
			convs[i] = m.NewProcess(batches[i].tests, hold)
		}
		for left := len(batches); left > 0; {
			for i, c := range convs {
				if c == nil {
					continue
				}
				k := min(len(outs[i]), 7)
				c.Write(outs[i][:k])
				if outs[i] = outs[i][k:]; len(outs[i]) == 0 {
					c.Finish(codes[i], "")
					convs[i] = nil
					left--
				}
			}
		}
	}
	m.Finish()
	return events, m
}

// TestMergerSingleProcessMatchesGoTest: one process merged gives exactly
// go test -json's stream.
func TestMergerSingleProcessMatchesGoTest(t *testing.T) {
	cases := []struct {
		pkg   string
		tests []string
	}{
		// TestParallel is left out here: its subtests' order varies.
		{"mixed", []string{"TestPass", "TestFail", "TestSkip", "TestSub", "TestNoNewline", "TestLongLine", "TestAttr", "TestPassAB", "ExampleAdd", "ExampleAdd_wrong"}},
		{"allpass", []string{"TestOne", "TestTwo", "TestThree", "TestFour", "TestFive", "TestSix"}},
		{"allpass", []string{"TestNothingMatches"}},
		{"crash", []string{"TestA", "TestPanic"}},
	}
	for _, tc := range cases {
		t.Run(tc.pkg+"/"+tc.tests[0], func(t *testing.T) {
			b := batchRun{tc.tests}
			got, _ := mergeBatches(t, tc.pkg, []batchRun{b}, false, false)
			want := goTestJSON(t, tc.pkg, "-run", b.pattern())
			if tc.pkg == "crash" {
				// Goroutine ids and addresses in the panic trace vary.
				got, want = dropPanicTrace(got), dropPanicTrace(want)
			}
			diffLines(t, normalize(got), normalize(want))
		})
	}
}

func dropPanicTrace(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if e.Action == "output" && e.Test == "TestPanic" && !strings.HasPrefix(e.Output, "---") && !strings.HasPrefix(e.Output, "===") {
			continue
		}
		out = append(out, e)
	}
	return out
}

// TestMergerBatchesMatchGoTest splits packages into processes and compares
// with one go test -json run of the whole package.
func TestMergerBatchesMatchGoTest(t *testing.T) {
	cases := []struct {
		pkg     string
		batches []batchRun
	}{
		{"allpass", []batchRun{{[]string{"TestOne", "TestTwo"}}, {[]string{"TestThree", "TestFour"}}, {[]string{"TestFive", "TestSix"}}}},
		{"mixed", []batchRun{
			{[]string{"TestPass", "TestFail", "TestSkip"}},
			{[]string{"TestSub", "TestParallel", "ExampleAdd"}},
			{[]string{"TestNoNewline", "TestLongLine", "TestAttr", "TestPassAB", "ExampleAdd_wrong"}},
		}},
	}
	for _, tc := range cases {
		want := goTestJSON(t, tc.pkg)
		for _, concurrent := range []bool{false, true} {
			for _, hold := range []bool{false, true} {
				name := fmt.Sprintf("%s/concurrent=%v/hold=%v", tc.pkg, concurrent, hold)
				t.Run(name, func(t *testing.T) {
					got, _ := mergeBatches(t, tc.pkg, tc.batches, concurrent, hold)
					checkSameRun(t, got, want)
					if hold {
						checkContiguous(t, got)
					} else if !concurrent {
						// Round-robin feeding interleaves the batches'
						// tests when they are not held: proof that the
						// check can fail.
						if bad := firstNonContiguous(got); bad == "" {
							t.Error("streamed batches fed round robin did not interleave")
						}
					}
				})
			}
		}
	}
}

// checkSameRun compares two runs of a package whose event order may differ.
func checkSameRun(t *testing.T, got, want []Event) {
	t.Helper()
	if g, w := outcomes(got), outcomes(want); !maps.Equal(g, w) {
		t.Errorf("outcomes differ:\ngot  %v\nwant %v", g, w)
	}
	g, w := outputByTest(got), outputByTest(want)
	for _, k := range slices.Sorted(maps.Keys(w)) {
		if g[k] != w[k] {
			t.Errorf("output of %q differs:\ngot  %q\nwant %q", k, g[k], w[k])
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("unexpected output for %q: %q", k, g[k])
		}
	}
	if got[0].Action != "start" || !got[len(got)-1].IsPackageEnd() {
		t.Errorf("stream does not run from start to package end: %+v ... %+v", got[0], got[len(got)-1])
	}
	// Same package-level lines in the same order, one summary.
	diffLines(t, packageLines(got), packageLines(want))
}

// checkContiguous checks that each top-level test's events form one block.
func checkContiguous(t *testing.T, events []Event) {
	t.Helper()
	if bad := firstNonContiguous(events); bad != "" {
		t.Errorf("events of %s are not contiguous", bad)
	}
}

func firstNonContiguous(events []Event) string {
	done := make(map[string]bool)
	prev := ""
	for _, e := range events {
		top := topLevel(e.Test)
		if top != prev {
			if done[top] {
				return top
			}
			done[prev] = prev != ""
			prev = top
		}
	}
	return ""
}

func packageLines(events []Event) []string {
	var lines []string
	for _, e := range events {
		if e.Test == "" {
			lines = append(lines, normalize([]Event{e})...)
		}
	}
	return lines
}

// TestMergerCrashRequeue: a process dies in os.Exit; the test is failed with
// a reason, the tests it never started are requeued in another process,
// and every test is reported exactly once.
func TestMergerCrashRequeue(t *testing.T) {
	var events []Event
	m := NewMerger(fixModule+"/crash", fakeClock(), func(e Event) { events = append(events, e) })
	m.Start()
	queue := [][]string{{"TestA", "TestExit", "TestZ", "TestLast"}}
	processes := 0
	for len(queue) > 0 {
		tests := queue[0]
		queue = queue[1:]
		processes++
		out, code := runFixture(t, "crash", batchRun{tests}.pattern())
		c := m.NewProcess(tests, false)
		c.Write(out)
		r := c.Finish(code, "")
		if len(r.Requeue) > 0 {
			queue = append(queue, r.Requeue)
		}
	}
	if m.Finish() != "fail" {
		t.Error("package did not fail")
	}
	if processes != 2 {
		t.Errorf("%d processes, want 2", processes)
	}
	want := map[string]int{" start": 1, "TestA pass": 1, "TestExit fail": 1, "TestZ pass": 1, "TestLast pass": 1, " fail": 1}
	if got := outcomes(events); !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	out := outputByTest(events)
	if !strings.Contains(out["TestExit"], "about to exit\ntest binary exited with status 3 while running TestExit\n--- FAIL: TestExit (") {
		t.Errorf("TestExit output %q", out["TestExit"])
	}
	if out[""] != "FAIL\texample.com/fix/crash\tX\n" {
		t.Errorf("package output %q", out[""])
	}
}

// TestMergerFailedProcessWithoutFailedTest: a process that fails with no
// failing test is reported as go test reports it: its own output and
// FAIL; the exit status only when it printed nothing, the signal when it
// was killed.
func TestMergerFailedProcessWithoutFailedTest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		output string
		code   int
		want   string
	}{
		{"printed", "init failed: no config\n", 1, "init failed: no config\nFAIL\tp\tX\n"},
		{"silent", "", 3, "exit status 3\nFAIL\tp\tX\n"},
		{"killed", "init\n", -1, "init\ntest binary was killed\nFAIL\tp\tX\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events []Event
			m := NewMerger("p", fakeClock(), func(e Event) { events = append(events, e) })
			c := m.NewProcess([]string{"TestA"}, false)
			c.Write([]byte(tc.output))
			r := c.Finish(tc.code, "")
			if !slices.Equal(r.NotStarted, []string{"TestA"}) || !r.Failed {
				t.Errorf("not started %v, failed %v", r.NotStarted, r.Failed)
			}
			m.Finish()
			if got := outputByTest(events)[""]; got != tc.want {
				t.Errorf("package output %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMergerShapes compares the streams of packages without tests, with
// build failures and setup failures with go test's.
func TestMergerShapes(t *testing.T) {
	t.Run("no test files", func(t *testing.T) {
		var got []Event
		m := NewMerger(fixModule+"/notests", fakeClock(), func(e Event) { got = append(got, e) })
		m.NoTestFiles()
		diffLines(t, normalize(got), normalize(goTestJSON(t, "notests")))
	})
	t.Run("build failed", func(t *testing.T) {
		want := goTestJSON(t, "buildfail")
		var output strings.Builder
		for _, e := range want {
			if e.Action == "build-output" {
				output.WriteString(e.Output)
			}
		}
		var got []Event
		m := NewMerger(fixModule+"/buildfail", fakeClock(), func(e Event) { got = append(got, e) })
		m.BuildFailed(fixModule+"/buildfail [example.com/fix/buildfail.test]", output.String())
		diffLines(t, normalize(got), normalize(want))
	})
	t.Run("setup failed", func(t *testing.T) {
		var got []Event
		m := NewMerger("example.com/sf/setupfail", fakeClock(), func(e Event) { got = append(got, e) })
		m.SetupFailed("example.com/sf/missing", "# example.com/sf/setupfail\nsetupfail/a.go:3:8: no required module provides package example.com/sf/missing\n")
		want := []string{
			`{"ImportPath":"example.com/sf/missing","Action":"build-output","Output":"# example.com/sf/setupfail\n"}`,
			`{"ImportPath":"example.com/sf/missing","Action":"build-output","Output":"setupfail/a.go:3:8: no required module provides package example.com/sf/missing\n"}`,
			`{"ImportPath":"example.com/sf/missing","Action":"build-fail"}`,
			`{"Action":"start","Package":"example.com/sf/setupfail"}`,
			`{"Action":"output","Package":"example.com/sf/setupfail","Output":"FAIL\texample.com/sf/setupfail [setup failed]\n"}`,
			`{"Action":"fail","Package":"example.com/sf/setupfail","Elapsed":0,"FailedBuild":"example.com/sf/missing"}`,
		}
		diffLines(t, normalize(got), want)
	})
	t.Run("no processes", func(t *testing.T) {
		var got []Event
		m := NewMerger("p", fakeClock(), func(e Event) { got = append(got, e) })
		m.Start()
		m.Finish()
		want := []string{
			`{"Action":"start","Package":"p"}`,
			`{"Action":"output","Package":"p","Output":"testing: warning: no tests to run\n"}`,
			`{"Action":"output","Package":"p","Output":"PASS\n"}`,
			`{"Action":"output","Package":"p","Output":"ok  \tp\tX [no tests to run]\n"}`,
			`{"Action":"pass","Package":"p","Elapsed":0}`,
		}
		diffLines(t, normalize(got), want)
	})
}

// TestMergerCoverageAndDedup checks the kept-once rule and coverage.
func TestMergerCoverageAndDedup(t *testing.T) {
	var events []Event
	m := NewMerger("p", fakeClock(), func(e Event) { events = append(events, e) })
	proc := func(test, extra string) {
		c := m.NewProcess([]string{test}, false)
		c.Write([]byte("-test.shuffle " + test + "\nsetup\nsetup\n\x16=== RUN   " + test + "\n\x16--- PASS: " + test + " (0.00s)\n\x16PASS\ncoverage: 10.0% of statements\n" + extra + "teardown\nexit status 0\n"))
		c.Finish(0, "")
	}
	proc("TestA", "")
	proc("TestB", "only in B\n")
	m.SetCoverage("55.5% of statements")
	m.Finish()
	got := outputByTest(events)[""]
	want := "-test.shuffle TestA\nsetup\nsetup\nPASS\ncoverage: 55.5% of statements\nteardown\nonly in B\nok  \tp\tX\tcoverage: 55.5% of statements\n"
	if got != want {
		t.Errorf("package output\n%q, want\n%q", got, want)
	}
}

func TestMergerInvariants(t *testing.T) {
	m := NewMerger("p", fakeClock(), func(Event) {})
	c := m.NewProcess(nil, false)
	mustPanic(t, "Finish with a running process", func() { m.Finish() })
	c.Finish(0, "")
	m.Finish()
	mustPanic(t, "NewProcess after Finish", func() { m.NewProcess(nil, false) })
	mustPanic(t, "Finish twice on a converter", func() { c.Finish(0, "") })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("%s did not panic", what)
		} else if s, _ := r.(string); !strings.HasPrefix(s, "collector: ") {
			t.Errorf("%s: panic %v without the package name", what, r)
		}
	}()
	f()
}

// TestMergerAbortRequeue: a worker is lost in the middle of a process; the
// held events of its unfinished tests are dropped, the tests requeued and
// reported once, from the process that ran them to the end.
func TestMergerAbortRequeue(t *testing.T) {
	var events []Event
	m := NewMerger(fixModule+"/allpass", fakeClock(), func(e Event) { events = append(events, e) })
	m.Start()
	tests := []string{"TestOne", "TestTwo", "TestThree", "TestFour"}
	out, code := runFixture(t, "allpass", batchRun{tests}.pattern())
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// The connection drops in the middle of TestTwo's child.
	cut := bytes.Index(out, []byte("two/child"))
	c := m.NewProcess(tests, true)
	c.Write(out[:cut])
	r := c.Abort("worker gw1 lost")
	if want := []string{"TestTwo", "TestThree", "TestFour"}; !slices.Equal(r.Requeue, want) || !r.Aborted {
		t.Fatalf("not started %v, want %v (result %+v)", r.Requeue, want, r)
	}
	out, code = runFixture(t, "allpass", batchRun{r.Requeue}.pattern())
	c = m.NewProcess(r.Requeue, true)
	c.Write(out)
	c.Finish(code, "")
	if m.Finish() != "pass" {
		t.Error("package failed")
	}
	want := map[string]int{" start": 1, "TestOne pass": 1, "TestTwo pass": 1, "TestTwo/child pass": 1, "TestThree skip": 1, "TestFour pass": 1, " pass": 1}
	if got := outcomes(events); !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	runs := 0
	for _, e := range events {
		if e.Action == "run" && e.Test == "TestTwo" {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("TestTwo run %d times in the stream", runs)
	}
	if got := outputByTest(events)[""]; got != "hello from TestMain\nPASS\nok  \texample.com/fix/allpass\tX\n" {
		t.Errorf("package output %q", got)
	}
	checkContiguous(t, events)
}

func TestMergerAbortKeepsFinishedFailure(t *testing.T) {
	var events []Event
	m := NewMerger("p", fakeClock(), func(e Event) { events = append(events, e) })
	c := m.NewProcess([]string{"TestA", "TestB"}, true)
	c.Write([]byte("\x16=== RUN   TestA\n\x16--- FAIL: TestA (0.00s)\n\x16=== RUN   TestB\nhalf of B"))
	r := c.Abort("worker gw0 lost")
	if !slices.Equal(r.Requeue, []string{"TestB"}) {
		t.Fatalf("not started %v", r.Requeue)
	}
	c = m.NewProcess(r.Requeue, true)
	c.Write([]byte("\x16=== RUN   TestB\n\x16--- PASS: TestB (0.00s)\n\x16PASS\n"))
	c.Finish(0, "")
	if got := m.Finish(); got != "fail" {
		t.Errorf("package %s, want fail", got)
	}
	want := map[string]int{" start": 1, "TestA fail": 1, "TestB pass": 1, " fail": 1}
	if got := outcomes(events); !maps.Equal(got, want) {
		t.Errorf("outcomes %v", got)
	}
	for _, e := range events {
		if strings.Contains(e.Output, "half of B") {
			t.Errorf("output of the aborted TestB leaked: %+v", e)
		}
	}
}

// TestRawOutputMatchesGoTest: a package's go test -json events, rebuilt
// into its test binary's output (RawOutput) and converted again, give go
// test's stream back: nothing test2json dropped (^V markers, === NAME
// lines) is missed, and the exit code is the one the go command printed.
func TestRawOutputMatchesGoTest(t *testing.T) {
	for _, pkg := range []string{"mixed", "allpass", "crash", "fakeframing"} {
		t.Run(pkg, func(t *testing.T) {
			want := goTestJSON(t, pkg, "-skip", "TestParallel")
			var raw RawOutput
			var end Event
			for _, e := range want {
				raw.Add(e)
				if e.IsPackageEnd() {
					end = e
				}
			}
			var got []Event
			m := NewMerger(want[0].Package, fakeClock(), func(e Event) { got = append(got, e) })
			c := m.NewProcess(nil, true)
			c.Write(raw.Bytes())
			res := c.Finish(raw.ExitCode(end.Action), "")
			m.Finish()
			if (end.Action == "fail") != res.Failed {
				t.Errorf("process failed %t, go test says %s", res.Failed, end.Action)
			}
			if pkg == "crash" {
				got, want = dropPanicTrace(got), dropPanicTrace(want)
			}
			diffLines(t, normalize(got), normalize(want))
		})
	}
}

// A confirm process reports only the tests it confirms: the ones before
// them ran as context and were reported already.
func TestMergerConfirmProcess(t *testing.T) {
	var events []Event
	m := NewMerger("p", fakeClock(), func(e Event) { events = append(events, e) })
	m.Start()
	first := m.NewProcess([]string{"TestB"}, true)
	first.Write([]byte("\x16=== RUN   TestB\n    b_test.go:9: address in use\n\x16--- FAIL: TestB (0.00s)\n\x16FAIL\n"))
	first.Finish(1, "")
	other := m.NewProcess([]string{"TestA"}, true)
	other.Write([]byte("\x16=== RUN   TestA\n\x16--- PASS: TestA (0.00s)\n\x16PASS\n"))
	other.Finish(0, "")
	m.SetReruns()
	c := m.NewConfirmProcess([]string{"TestA", "TestB"}, []string{"TestB"})
	c.Write([]byte("\x16=== RUN   TestA\n    a_test.go:3: context output\n\x16--- PASS: TestA (0.00s)\n\x16=== RUN   TestB\n\x16--- PASS: TestB (0.00s)\n\x16PASS\n"))
	c.Finish(0, "")
	if got := m.Finish(); got != "pass" {
		t.Errorf("package %s, want pass: TestB passed as go test runs it", got)
	}
	want := map[string]int{" start": 1, "TestA pass": 1, "TestB fail": 1, "TestB pass": 1, " pass": 1}
	if got := outcomes(events); !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if out := outputByTest(events)["TestA"]; strings.Contains(out, "context output") {
		t.Errorf("the confirm run's context test was reported again: %q", out)
	}

	// A failure the confirm run repeats fails the package.
	events = nil
	m = NewMerger("p", fakeClock(), func(e Event) { events = append(events, e) })
	first = m.NewProcess([]string{"TestB"}, true)
	first.Write([]byte("\x16=== RUN   TestB\n\x16--- FAIL: TestB (0.00s)\n\x16FAIL\n"))
	first.Finish(1, "")
	m.SetReruns()
	c = m.NewConfirmProcess([]string{"TestA", "TestB"}, []string{"TestB"})
	c.Write([]byte("\x16=== RUN   TestA\n\x16--- PASS: TestA (0.00s)\n\x16=== RUN   TestB\n\x16--- FAIL: TestB (0.00s)\n\x16FAIL\n"))
	c.Finish(1, "")
	if got := m.Finish(); got != "fail" {
		t.Errorf("package %s, want fail", got)
	}
	if got := outcomes(events)["TestA pass"]; got != 0 {
		t.Errorf("context test TestA reported %d times", got)
	}
	if got := outcomes(events)["TestB fail"]; got != 1 {
		t.Errorf("TestB, failed twice, reported failed %d times, want once", got)
	}
}
