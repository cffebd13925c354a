// Package skip has skipped tests: an unconditional t.Skip and a
// testing.Short() skip, plus one passing test.
package skip

import "testing"

func TestSkipped(t *testing.T) {
	t.Skip("always skipped")
}

func TestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	t.Log("ran in long mode")
}

func TestSkipSub(t *testing.T) {
	t.Run("skipped", func(t *testing.T) { t.Skipf("skip %d", 1) })
	t.Run("runs", func(t *testing.T) {})
}

func TestRuns(t *testing.T) {}
