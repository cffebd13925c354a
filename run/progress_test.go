package run

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, running: map[int]string{}, total: 20, workers: 2, estimate: 10 * time.Second, now: time.Now}
	p.setKnown(true, 10*time.Second)
	p.begin(1, "example.com/x/slow", []string{"TestA", "TestB"})
	p.begin(0, "example.com/x/pass", nil)
	p.end(0, 5, 1, 2*time.Second) // per process: not counted
	for i := range 5 {
		p.testDone(i == 0, 400*time.Millisecond)
	}
	if got, want := p.line(), "godist: 5/20 tests, 1 failed, ~4s left | gw1 slow TestA +1"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	p.mu.Lock()
	p.drawLocked()
	p.mu.Unlock()
	w := p.wrap(&out)
	w.Write([]byte("ok  \tpkg\t0.1s\n"))
	if got := out.String(); !bytes.HasSuffix([]byte(got), []byte("\r\033[Kok  \tpkg\t0.1s\n")) {
		t.Errorf("output does not take the status line away first: %q", got)
	}
	// Not a terminal: no progress at all.
	if newProgress(&out, &Config{}) != nil {
		t.Error("progress on a buffer")
	}
	var nilp *progress
	nilp.begin(0, "p", nil)
	nilp.end(0, 1, 0, 0)
	nilp.start(1, 0, 1)
	nilp.testDone(true, 0)
	nilp.testRunning(0, "p", "T")
	nilp.stop()
}

// TestProgressFirstRun: without history the estimate is the plan's tests
// left at the pace so far, never "~0s left" while tests remain; counts
// move test by test.
func TestProgressFirstRun(t *testing.T) {
	clock := time.Unix(1000, 0)
	p := &progress{running: map[int]string{}, now: func() time.Time { return clock }}
	p.start(40, 400*time.Millisecond, 2) // the plan's 10 ms a test
	p.stop()
	if got := p.line(); got != "godist: 0/40 tests" {
		t.Errorf("before any test: %q", got)
	}
	p.testRunning(0, "example.com/x/slow", "TestSlow1")
	clock = clock.Add(5 * time.Second)
	for range 10 {
		p.testDone(false, 0)
	}
	if got, want := p.line(), "godist: 10/40 tests, ~15s left | gw0 slow TestSlow1"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	p.testDone(true, 0)
	if got := p.line(); !strings.HasPrefix(got, "godist: 11/40 tests, 1 failed, ~") || strings.Contains(got, "~0s") {
		t.Errorf("line %q", got)
	}
}

func TestProgressNotUnderCI(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "false": false, "0": false, "": false} {
		t.Setenv("CI", v)
		if underCI() != want {
			t.Errorf("CI=%q: underCI %v", v, !want)
		}
	}
	// A real terminal (a pty, as tmux gives one) under CI=true: no status line.
	f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no pty here:", err)
	}
	defer f.Close()
	t.Setenv("TERM", "xterm")
	t.Setenv("CI", "")
	if newProgress(f, &Config{}) == nil {
		t.Skip("the pty is no terminal here")
	}
	t.Setenv("CI", "true")
	if newProgress(f, &Config{}) != nil {
		t.Error("status line under CI=true")
	}
}
