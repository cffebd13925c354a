package run

import (
	"strings"
	"testing"

	"github.com/godist/godist/collector"
)

// A package's stream is held for the cache up to maxCachedStream: past
// that it is dropped (the package is not cached), not held whole.
func TestStreamRecBounded(t *testing.T) {
	var s streamRec
	line := strings.Repeat("x", 1<<20) + "\n"
	s.record(collector.Event{Action: "start", Package: "p"})
	for range maxCachedStream>>20 + 1 {
		s.record(collector.Event{Action: "output", Package: "p", Test: "TestBig", Output: line})
		if len(s.data) > maxCachedStream {
			t.Fatalf("holding %d bytes, bound %d", len(s.data), maxCachedStream)
		}
	}
	s.record(collector.Event{Action: "pass", Package: "p"})
	if data, _ := s.take(); data != nil {
		t.Errorf("a stream past the bound kept for the cache: %d bytes", len(data))
	}

	var small streamRec
	small.record(collector.Event{Action: "start", Package: "p"})
	small.record(collector.Event{Action: "pass", Package: "p"})
	if data, _ := small.take(); !strings.Contains(string(data), `"Action":"pass"`) {
		t.Errorf("a small passing stream not kept: %q", data)
	}
}
