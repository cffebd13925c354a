// Package scratchfile's tests use one fixed scratch file in the package
// directory: fine one at a time, clobbered by another process of the
// package running at the same time (a network namespace does not help:
// the package directory is shared).
package scratchfile

import (
	"os"
	"testing"
	"time"

	"example.com/fixture/isolation/internal/hold"
)

const scratch = "scratch.out"

func useScratch(t *testing.T) {
	if err := os.WriteFile(scratch, []byte(t.Name()), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(scratch)
	time.Sleep(hold.Duration())
	b, err := os.ReadFile(scratch)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != t.Name() {
		t.Fatalf("scratch file holds %q, want %q", b, t.Name())
	}
}

func TestScratchA(t *testing.T) { useScratch(t) }
func TestScratchB(t *testing.T) { useScratch(t) }
