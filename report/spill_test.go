package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// Past spillAt a package's text goes to a file, comes back whole and in
// order, and leaves no file behind.
func TestSpillBuffer(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var b spillBuffer
	var want strings.Builder
	line := strings.Repeat("x", 1023) + "\n"
	for i := 0; i < (spillAt/len(line))*2; i++ {
		s := line
		if i%1000 == 0 {
			s = strings.Repeat("y", i%7) + "\n"
		}
		b.WriteString(s)
		want.WriteString(s)
	}
	if b.file == nil {
		t.Fatal("twice spillAt held in memory")
	}
	if b.mem.Len() > spillAt {
		t.Errorf("%d bytes in memory after the spill", b.mem.Len())
	}
	var got bytes.Buffer
	if _, err := b.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("got %d bytes back, want %d (or not in order)", got.Len(), want.Len())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}

	var small spillBuffer
	small.WriteString("a\n")
	small.WriteString("b\n")
	got.Reset()
	small.WriteTo(&got)
	if got.String() != "a\nb\n" || small.file != nil {
		t.Errorf("small: %q", got.String())
	}

	var dropped spillBuffer
	for i := 0; i < spillAt/len(line)+2; i++ {
		dropped.WriteString(line)
	}
	dropped.Discard()
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 || dropped.file != nil {
		t.Errorf("discarded: files left %v", left)
	}
}
