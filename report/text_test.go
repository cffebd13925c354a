package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/godist/godist/collector"
)

func out(pkg, test, s string) collector.Event {
	return collector.Event{Action: "output", Package: pkg, Test: test, Output: s}
}

func act(pkg, test, action string, elapsed float64) collector.Event {
	e := collector.Event{Action: action, Package: pkg, Test: test}
	if action == "pass" || action == "fail" || action == "skip" {
		e.Elapsed = &elapsed
	}
	return e
}

// crashStream is a package stream as godist's collector makes it for a
// test binary that exited during TestD: a synthesized reason line, an
// indented header for the subtest and a fail event per running test.
func crashStream(pkg string) []collector.Event {
	return []collector.Event{
		act(pkg, "", "start", 0),
		act(pkg, "TestD", "run", 0),
		out(pkg, "TestD", "=== RUN   TestD\n"),
		out(pkg, "TestD", "    x_test.go:3: parent log\n"),
		act(pkg, "TestD/sub", "run", 0),
		out(pkg, "TestD/sub", "=== RUN   TestD/sub\n"),
		out(pkg, "TestD/sub", "    x_test.go:5: sub log\n"),
		out(pkg, "TestD/sub", "D about to exit\n"),
		out(pkg, "TestD/sub", "test binary exited with status 3 while running TestD/sub\n"),
		out(pkg, "TestD/sub", "    --- FAIL: TestD/sub (0.10s)\n"),
		act(pkg, "TestD/sub", "fail", 0.1),
		out(pkg, "TestD", "--- FAIL: TestD (0.20s)\n"),
		act(pkg, "TestD", "fail", 0.2),
		out(pkg, "", "FAIL\t"+pkg+"\t0.300s\n"),
		act(pkg, "", "fail", 0.3),
	}
}

func render(t *testing.T, evs []collector.Event, opts TextOptions) (string, string) {
	t.Helper()
	var o, e bytes.Buffer
	r := NewTextOptions(&o, &e, opts)
	for _, ev := range evs {
		if err := r.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String()
}

func TestTextCollectorCrash(t *testing.T) {
	got, _ := render(t, crashStream("p"), TextOptions{})
	want := "D about to exit\n" +
		"test binary exited with status 3 while running TestD/sub\n" +
		"--- FAIL: TestD (0.20s)\n" +
		"    x_test.go:3: parent log\n" +
		"    --- FAIL: TestD/sub (0.10s)\n" +
		"        x_test.go:5: sub log\n" +
		"FAIL\tp\t0.300s\n" +
		"FAIL\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	got, _ = render(t, crashStream("p"), TextOptions{Verbose: true, LocalDir: true})
	want = "=== RUN   TestD\n" +
		"    x_test.go:3: parent log\n" +
		"=== RUN   TestD/sub\n" +
		"    x_test.go:5: sub log\n" +
		"D about to exit\n" +
		"test binary exited with status 3 while running TestD/sub\n" +
		"--- FAIL: TestD (0.20s)\n" +
		"    --- FAIL: TestD/sub (0.10s)\n" +
		"FAIL\tp\t0.300s\n"
	if got != want {
		t.Errorf("verbose got:\n%s\nwant:\n%s", got, want)
	}
}

// A fail event with no header line at all gets one, as testing would
// print it.
func TestTextFailWithoutHeader(t *testing.T) {
	evs := []collector.Event{
		act("p", "", "start", 0),
		act("p", "TestX", "run", 0),
		out("p", "TestX", "=== RUN   TestX\n"),
		out("p", "TestX", "    x_test.go:1: hidden unless failed\n"),
		act("p", "TestX", "fail", 1.5),
		out("p", "", "FAIL\tp\t1.600s\n"),
		act("p", "", "fail", 1.6),
	}
	got, _ := render(t, evs, TextOptions{LocalDir: true})
	want := "--- FAIL: TestX (1.50s)\n    x_test.go:1: hidden unless failed\nFAIL\tp\t1.600s\n"
	if got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

// Packages may interleave: without -v each package's text comes out as
// one block when the package ends; build output goes to stderr at once.
func TestTextInterleavedPackages(t *testing.T) {
	a, b := crashStream("a"), crashStream("b")
	var evs []collector.Event
	for i := range a {
		evs = append(evs, a[i], b[i])
	}
	evs = append(evs,
		collector.Event{ImportPath: "c [c.test]", Action: "build-output", Output: "# c [c.test]\n"},
		collector.Event{ImportPath: "c [c.test]", Action: "build-output", Output: "./c_test.go:1:1: bad\n"},
		collector.Event{ImportPath: "c [c.test]", Action: "build-fail"},
		act("c", "", "start", 0),
		out("c", "", "FAIL\tc [build failed]\n"),
		act("c", "", "fail", 0),
	)
	got, stderr := render(t, evs, TextOptions{LocalDir: true})
	one, _ := render(t, crashStream("a"), TextOptions{LocalDir: true})
	two, _ := render(t, crashStream("b"), TextOptions{LocalDir: true})
	if want := one + two + "FAIL\tc [build failed]\n"; got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if want := "# c [c.test]\n./c_test.go:1:1: bad\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

// A passing package shows only cmd/go's ok line without -v, everything
// with it; a package without tests shows its "?" line.
func TestTextPassingPackage(t *testing.T) {
	evs := []collector.Event{
		act("p", "", "start", 0),
		out("p", "", "TestMain says hi\n"),
		act("p", "TestA", "run", 0),
		out("p", "TestA", "=== RUN   TestA\n"),
		out("p", "TestA", "    a_test.go:1: log\n"),
		out("p", "TestA", "stdout line\n"),
		out("p", "TestA", "--- PASS: TestA (0.00s)\n"),
		act("p", "TestA", "pass", 0),
		out("p", "", "PASS\n"),
		out("p", "", "ok  \tp\t0.010s\n"),
		act("p", "", "pass", 0.01),
		act("q", "", "start", 0),
		out("q", "", "?   \tq\t[no test files]\n"),
		act("q", "", "skip", 0),
	}
	got, _ := render(t, evs, TextOptions{})
	if want := "ok  \tp\t0.010s\n?   \tq\t[no test files]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got, _ = render(t, evs, TextOptions{Verbose: true})
	want := "TestMain says hi\n=== RUN   TestA\n    a_test.go:1: log\nstdout line\n--- PASS: TestA (0.00s)\nPASS\nok  \tp\t0.010s\n?   \tq\t[no test files]\n"
	if got != want {
		t.Errorf("verbose got %q, want %q", got, want)
	}
}

// Close prints a package that never ended and the final FAIL.
func TestTextUnfinishedPackage(t *testing.T) {
	evs := crashStream("p")
	evs = evs[:len(evs)-2] // no summary line, no package fail
	got, _ := render(t, evs, TextOptions{})
	if !strings.HasPrefix(got, "D about to exit\n") || !strings.HasSuffix(got, "--- FAIL: TestD/sub (0.10s)\n        x_test.go:5: sub log\nFAIL\n") {
		t.Errorf("got:\n%s", got)
	}
}

type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n == 0 {
		return 0, errWrite
	}
	w.n--
	return len(b), nil
}

func TestWriteErrorsAreSticky(t *testing.T) {
	for name, r := range map[string]Renderer{
		"text": NewText(&failWriter{}, &failWriter{}, true),
		"json": NewJSON(&failWriter{}),
	} {
		t.Run(name, func(t *testing.T) {
			err := r.Event(out("p", "", "hello\n"))
			if !errors.Is(err, errWrite) {
				t.Fatalf("Event: %v", err)
			}
			if err2 := r.Event(out("p", "", "again\n")); !errors.Is(err2, errWrite) {
				t.Errorf("second Event: %v", err2)
			}
			if err := r.Close(); !errors.Is(err, errWrite) {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	failed := &Status{}
	failed.Event(act("p", "TestA", "fail", 0))
	buildFailed := &Status{}
	buildFailed.Event(collector.Event{ImportPath: "p [p.test]", Action: "build-fail"})
	passed := &Status{}
	passed.Event(act("p", "TestA", "pass", 0))
	passed.Event(act("q", "", "skip", 0))
	for _, c := range []struct {
		name string
		err  error
		st   *Status
		want int
	}{
		{"all passed", nil, passed, ExitOK},
		{"nil status", nil, nil, ExitOK},
		{"test failed", nil, failed, ExitFailed},
		{"build failed", nil, buildFailed, ExitFailed},
		{"run error", errors.New("worker lost"), passed, ExitFailed},
		{"usage", &UsageError{Err: errors.New("unknown flag -x")}, nil, ExitUsage},
		{"wrapped usage", errors.Join(errors.New("godist"), &UsageError{Err: errors.New("bad -n")}), failed, ExitUsage},
	} {
		if got := ExitCode(c.err, c.st); got != c.want {
			t.Errorf("%s: ExitCode = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestTee(t *testing.T) {
	var a, b bytes.Buffer
	st := &Status{}
	r := Tee(NewJSON(&a), NewJSON(&b), st)
	for _, e := range crashStream("p") {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() || a.Len() == 0 {
		t.Errorf("tee outputs differ or are empty")
	}
	if !st.Failed() || len(st.FailedPackages) != 1 || st.FailedPackages[0] != "p" {
		t.Errorf("status = %+v", st)
	}
}
