package collector

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

var chunkSizes = []int{1, 3, 7, 64, 1 << 20}

// testEvents drops the package-level start and result events that
// test2json adds and the converter leaves to the Merger.
func testEvents(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if e.Test == "" && e.Action != "output" {
			continue
		}
		if strings.HasPrefix(e.Output, "ok  \t"+fixModule) || strings.HasPrefix(e.Output, "FAIL\t"+fixModule) {
			continue // go test's summary, written by the Merger
		}
		out = append(out, e)
	}
	return out
}

// TestConverterMatchesTest2JSON replays real test binary output in odd
// chunks and compares with the toolchain's own converter.
func TestConverterMatchesTest2JSON(t *testing.T) {
	cases := []struct{ pkg, run string }{
		{"mixed", ""},
		{"allpass", ""},
		{"allpass", "^(TestTwo|TestSix)$"},
		{"allpass", "^$"},
		{"crash", "^(TestA|TestPanic|TestZ)$"},
	}
	for _, tc := range cases {
		t.Run(tc.pkg+tc.run, func(t *testing.T) {
			out, code := runFixture(t, tc.pkg, tc.run)
			want := normalize(testEvents(test2json(t, tc.pkg, out, code)))
			for _, n := range chunkSizes {
				got, r := convert(tc.pkg, nil, out, n, code)
				diffLines(t, normalize(got), want)
				if len(r.Interrupted) != 0 {
					t.Errorf("chunk %d: interrupted %v, want none", n, r.Interrupted)
				}
				if r.Failed != (code != 0) {
					t.Errorf("chunk %d: Failed = %v with exit code %d", n, r.Failed, code)
				}
			}
		})
	}
}

// TestConverterSynthetic compares hand-made inputs with test2json.
func TestConverterSynthetic(t *testing.T) {
	long := strings.Repeat("ab€", 900) // 4500 bytes, multi-byte runes across the 1 KiB cuts
	cases := map[string]string{
		"name and cont": "\x16=== RUN   TestA\nout a\n\x16=== RUN   TestB\n\x16=== PAUSE TestB\n\x16=== NAME  TestA\nmore a\n" +
			"\x16=== NAME\n\x16=== CONT  TestB\n\x16--- PASS: TestB (0.01s)\n\x16--- PASS: TestA (0.02s)\n\x16PASS\n",
		"no newline before marker": "\x16=== RUN   TestA\npartial\x16--- FAIL: TestA (0.00s)\n\x16FAIL\n",
		"long lines":               "\x16=== RUN   TestA\n" + long + "\n    " + long + "\n\x16--- PASS: TestA (0.00s)\n\x16PASS\n",
		"unmarked framing ignored": "\x16=== RUN   TestA\n=== RUN   TestFake\n--- FAIL: TestFake (0.00s)\n\x16--- PASS: TestA (0.00s)\n\x16PASS\n",
		"nested": "\x16=== RUN   TestA\n\x16=== RUN   TestA/b\n\x16=== RUN   TestA/b/c\n        deep log\n" +
			"\x16--- SKIP: TestA/b/c (0.00s)\n            skip reason\n\x16--- FAIL: TestA/b (0.00s)\n        why\n\x16--- FAIL: TestA (0.00s)\n\x16FAIL\n",
		"indented results": "=== RUN   TestA\n=== RUN   TestA/b\n=== RUN   TestA/b/c\n    x_test.go:1: log\n--- FAIL: TestA (0.00s)\n    --- FAIL: TestA/b (0.00s)\n        why\n" +
			"        --- SKIP: TestA/b/c (0.00s)\n            more\n                too deep\nFAIL\n",
		"attr and artifacts": "\x16=== RUN   TestA\n\x16=== ATTR  TestA key a value with spaces\n\x16=== ARTIFACTS TestA /tmp/dir\n\x16--- PASS: TestA (0.00s)\n\x16PASS\n",
		"bench": "\x16=== RUN   TestA\n\x16--- PASS: TestA (0.00s)\n\x16=== NAME  \ngoos: linux\n\x16=== RUN   BenchmarkX\nBenchmarkX\nBenchmarkX-8   \t 1000\t 123 ns/op\n" +
			"\x16--- BENCH: BenchmarkX-8\n    b_test.go:3: log\n\x16=== NAME  \n\x16=== RUN   BenchmarkY\nBenchmarkY\n\x16=== RUN   BenchmarkY/sub\nBenchmarkY/sub\n" +
			"BenchmarkY/sub-2         \t     100\t         1.900 ns/op\n\x16=== NAME  \n\x16PASS\n",
		"crlf and empty name": "\x16=== RUN   TestA\r\nx\r\n\x16=== NAME  \n\x16--- PASS: TestA (0.00s)\r\n\x16PASS\n",
		"no test files":       "?   \tpkg\t[no test files]\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			want := normalize(testEvents(test2json(t, "synthetic", []byte(in), 0)))
			for _, n := range chunkSizes {
				got, _ := convert("synthetic", nil, []byte(in), n, 0)
				if name == "bench" && n < 1<<20 {
					// A benchmark line's name column is passed on early
					// when the rest has not arrived (as in test2json).
					if joinOutput(got) != joinOutput(testEvents(test2json(t, "synthetic", []byte(in), 0))) {
						t.Errorf("chunk %d: output differs", n)
					}
					continue
				}
				diffLines(t, normalize(got), want)
			}
		})
	}
}

func TestConverterExit(t *testing.T) {
	run := "^(TestA|TestExit|TestZ)$"
	out, code := runFixture(t, "crash", run)
	if code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	for _, n := range chunkSizes {
		got, r := convert("crash", []string{"TestA", "TestExit", "TestZ"}, out, n, code)
		if !slices.Equal(r.NotStarted, []string{"TestZ"}) || !slices.Equal(r.Requeue, r.NotStarted) || !slices.Equal(r.Started, []string{"TestA", "TestExit"}) {
			t.Errorf("started %v, not started %v", r.Started, r.NotStarted)
		}
		if !slices.Equal(r.Interrupted, []string{"TestExit"}) || !r.Failed {
			t.Errorf("interrupted %v, failed %v", r.Interrupted, r.Failed)
		}
		wantReason := "test binary exited with status 3 while running TestExit"
		if r.Reason != wantReason {
			t.Errorf("reason %q, want %q", r.Reason, wantReason)
		}
		// What go test shows for the tests, plus the synthesized end.
		want := normalize(testEvents(goTestJSON(t, "crash", "-run", run)))
		synth := normalize([]Event{
			{Action: "output", Package: fixModule + "/crash", Test: "TestExit", Output: wantReason + "\n"},
			{Action: "output", Package: fixModule + "/crash", Test: "TestExit", Output: "--- FAIL: TestExit (0.00s)\n"},
			{Action: "fail", Package: fixModule + "/crash", Test: "TestExit", Elapsed: new(float64)},
		})
		var wantTests []string
		for _, l := range want {
			if !strings.Contains(l, `"Test":""`) && strings.Contains(l, `"Test"`) {
				wantTests = append(wantTests, l)
			}
		}
		diffLines(t, normalize(got), append(wantTests, synth...))
		if n == 1 {
			t.Logf("go test gave %d events for the tests", len(wantTests))
		}
	}
}

func TestConverterExitInSubtest(t *testing.T) {
	out, code := runFixture(t, "crash", "^(TestExitInSub|TestLast)$")
	got, r := convert("crash", []string{"TestExitInSub", "TestLast"}, out, 7, code)
	if code != 4 {
		t.Fatalf("exit code %d, want 4", code)
	}
	if !slices.Equal(r.Interrupted, []string{"TestExitInSub/child", "TestExitInSub"}) {
		t.Errorf("interrupted %v", r.Interrupted)
	}
	if !slices.Equal(r.Requeue, []string{"TestLast"}) {
		t.Errorf("not started %v", r.NotStarted)
	}
	var tail []string
	for _, e := range got[len(got)-5:] {
		tail = append(tail, fmt.Sprintf("%s %s %q", e.Action, e.Test, e.Output))
	}
	want := []string{
		`output TestExitInSub/child "test binary exited with status 4 while running TestExitInSub/child\n"`,
		`output TestExitInSub/child "    --- FAIL: TestExitInSub/child (0.00s)\n"`,
		`fail TestExitInSub/child ""`,
		`output TestExitInSub "--- FAIL: TestExitInSub (0.01s)\n"`,
		`fail TestExitInSub ""`,
	}
	diffLines(t, tail, want)
	// The parent ran for longer: Elapsed comes from the clock.
	if e := got[len(got)-1]; e.Elapsed == nil || *e.Elapsed <= 0 {
		t.Errorf("parent elapsed %v", e.Elapsed)
	}
}

func TestConverterCustomReasonAndSignal(t *testing.T) {
	in := "\x16=== RUN   TestA\n\x16--- PASS: TestA (0.00s)\n\x16=== RUN   TestB\n\x16=== RUN   TestB/x\n\x16=== PAUSE TestB/x\n\x16=== RUN   TestB/y\n"
	got, r := convert("p", []string{"TestA", "TestB", "TestC"}, []byte(in), 5, -1)
	if r.Reason != "test binary was killed while running TestB/x, TestB/y" {
		t.Errorf("reason %q", r.Reason)
	}
	if !slices.Equal(r.Interrupted, []string{"TestB/y", "TestB/x", "TestB"}) || !slices.Equal(r.NotStarted, []string{"TestC"}) {
		t.Errorf("interrupted %v, not started %v", r.Interrupted, r.NotStarted)
	}
	fails := 0
	for _, e := range got {
		if e.Action == "fail" {
			fails++
		}
	}
	if fails != 3 {
		t.Errorf("%d fail events, want 3", fails)
	}

	var events []Event
	c := NewProcessConverter("p", nil, fakeClock(), func(e Event) { events = append(events, e) })
	c.Write([]byte("\x16=== RUN   TestH\n"))
	r = c.Finish(2, "test TestH ran longer than 1s; goroutine dump follows")
	if r.Reason != "test TestH ran longer than 1s; goroutine dump follows" || events[2].Output != r.Reason+"\n" {
		t.Errorf("reason %q, events %+v", r.Reason, events)
	}
	if c.Tests()["TestH"] != "fail" {
		t.Errorf("Tests() = %v", c.Tests())
	}
}

func TestConverterTimeout(t *testing.T) {
	out, code := runFixture(t, "crash", "^(TestHang|TestLast)$", "-test.timeout=300ms")
	got, r := convert("crash", []string{"TestHang", "TestLast"}, out, 64, code)
	// As go test reports it: the panic belongs to TestHang, which gets no
	// result of its own; the process failed by its timeout.
	if code != 2 || !r.TimedOut || !r.Failed || len(r.Interrupted) != 0 || !slices.Equal(r.Requeue, []string{"TestLast"}) {
		t.Errorf("exit %d, result %+v", code, r)
	}
	panicked := false
	for _, e := range got {
		if e.Test == "TestHang" && (e.Action == "fail" || e.Action == "pass") {
			t.Errorf("timed-out TestHang got a %s event; go test gives it none", e.Action)
		}
		if e.Test == "TestHang" && strings.HasPrefix(e.Output, "panic: test timed out after 300ms") {
			panicked = true
		}
	}
	if !panicked {
		t.Errorf("timeout panic not attributed to TestHang")
	}
}

func TestConverterExitZero(t *testing.T) {
	out, code := runFixture(t, "crash", "^(TestExitZero|TestLast)$")
	if code == 0 {
		t.Fatal("os.Exit(0) during a test exited 0 despite -test.paniconexit0")
	}
	_, r := convert("crash", []string{"TestExitZero", "TestLast"}, out, 3, code)
	if !r.Failed || !slices.Equal(r.Requeue, []string{"TestLast"}) {
		t.Errorf("result %+v", r)
	}
	if got := convertOutcome(t, out, code, "TestExitZero"); got != "fail" {
		t.Errorf("TestExitZero outcome %q, want fail", got)
	}
}

func convertOutcome(t *testing.T, out []byte, code int, test string) string {
	t.Helper()
	c := NewProcessConverter("p", nil, fakeClock(), func(Event) {})
	c.Write(out)
	c.Finish(code, "")
	return c.Tests()[test]
}

func TestConverterCleanRunSynthesizesNothing(t *testing.T) {
	out, code := runFixture(t, "allpass", "^(TestOne|TestTwo)$")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	got, r := convert("allpass", []string{"TestOne", "TestTwo"}, out, 3, 0)
	if r.Failed || r.Reason != "" || len(r.Interrupted) != 0 || len(r.NotStarted) != 0 || !r.SawPass {
		t.Errorf("result %+v", r)
	}
	for _, e := range got {
		if strings.Contains(e.Output, "test binary") {
			t.Errorf("synthesized output %q", e.Output)
		}
	}
}

func joinOutput(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.Output)
	}
	return b.String()
}

func TestConverterTrailingPartialLine(t *testing.T) {
	in := "\x16=== RUN   TestA\n\x16--- PASS: TestA (0.00s)\n\x16PASS\nteardown without newline"
	got, r := convert("p", nil, []byte(in), 3, 0)
	if last := got[len(got)-1]; last.Output != "teardown without newline" || last.Test != "" {
		t.Errorf("last event %+v", last)
	}
	if !r.Unterminated || r.Failed || len(r.Interrupted) != 0 {
		t.Errorf("result %+v", r)
	}
}

// TestConverterRequeueOnlyAfterAbnormalEnd: tests a binary chose not to run
// are not requeued; tests a dying binary never reached are.
func TestConverterRequeueOnlyAfterAbnormalEnd(t *testing.T) {
	cases := []struct {
		name, pkg, run string
		requested      []string
		wantNotStarted []string
		wantRequeue    []string
	}{
		{"clean run, missing test", "allpass", "^(TestOne|TestMissing)$", []string{"TestOne", "TestMissing"}, []string{"TestMissing"}, nil},
		{"failing tests", "mixed", "^(TestFail|TestMissing)$", []string{"TestFail", "TestMissing"}, []string{"TestMissing"}, nil},
		{"panic", "crash", "^(TestPanic|TestLast)$", []string{"TestPanic", "TestLast"}, []string{"TestLast"}, []string{"TestLast"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runFixture(t, tc.pkg, tc.run)
			_, r := convert(tc.pkg, tc.requested, out, 64, code)
			if !slices.Equal(r.NotStarted, tc.wantNotStarted) || !slices.Equal(r.Requeue, tc.wantRequeue) {
				t.Errorf("exit %d: not started %v, requeue %v; want %v, %v", code, r.NotStarted, r.Requeue, tc.wantNotStarted, tc.wantRequeue)
			}
		})
	}
}
