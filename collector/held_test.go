package collector

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A held block past holdSpillAt goes to a file and comes back whole, in
// order, bytes as they were (not valid UTF-8 included), times and
// elapsed kept; dropping or releasing it leaves no file.
func TestHeldBlockSpills(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	now := time.Date(2026, 12, 4, 20, 0, 0, 123, time.UTC)
	el := 1.5
	line := strings.Repeat("x", 1023) + "\n"
	var want []Event
	var h heldBlock
	for i := 0; i < 2*holdSpillAt/len(line); i++ {
		e := Event{Time: &now, Action: "output", Package: "p", Test: "TestBig", Output: line}
		if i%5000 == 0 {
			e.Output = "\xff\xfe not UTF-8\n"
		}
		h.add(e)
		want = append(want, e)
		if h.size > holdSpillAt {
			t.Fatalf("%d bytes held in memory", h.size)
		}
	}
	end := Event{Time: &now, Action: "fail", Package: "p", Test: "TestBig", Elapsed: &el}
	h.add(end)
	want = append(want, end)
	if h.file == nil {
		t.Fatal("twice holdSpillAt held in memory")
	}
	got := h.all()
	if len(got) != len(want) {
		t.Fatalf("got %d events back, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Output != w.Output || g.Action != w.Action || g.Test != w.Test || !g.Time.Equal(*w.Time) ||
			(w.Elapsed != nil) != (g.Elapsed != nil) || w.Elapsed != nil && *g.Elapsed != *w.Elapsed {
			t.Fatalf("event %d: got %+v, want %+v", i, g, w)
		}
	}
	var dropped heldBlock
	for i := 0; i < holdSpillAt/len(line)+2; i++ {
		dropped.add(Event{Action: "output", Test: "T", Output: line})
	}
	dropped.drop()
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
}
