package run

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, running: map[int]string{}, total: 20, workers: 2, estimate: 10 * time.Second}
	p.begin(1, "example.com/x/slow", []string{"TestA", "TestB"})
	p.begin(0, "example.com/x/pass", nil)
	p.end(0, 5, 1, 2*time.Second)
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
	nilp.stop()
}
