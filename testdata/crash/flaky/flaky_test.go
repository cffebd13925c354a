// Package flaky has a test that fails the first time it runs and passes
// afterwards. The first run leaves a marker file in $GODIST_FLAKY_DIR (or
// os.TempDir() when unset); remove it, or use a fresh directory, to reset.
package flaky

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestFlaky(t *testing.T) {
	dir := os.Getenv("GODIST_FLAKY_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	marker := filepath.Join(dir, "godist-fixture-flaky.marker")
	if _, err := os.Stat(marker); err == nil {
		t.Log("marker found: passing")
		return
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, []byte("ran once\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Fatal("first run fails (marker written)")
}

func TestStable(t *testing.T) {}
