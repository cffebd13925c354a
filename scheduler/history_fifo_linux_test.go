package scheduler

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO as the history file would block a read forever: it is refused
// without opening it.
func TestLoadHistoryFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadHistory(path)
	var bad *BadHistoryError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("LoadHistory(fifo) = %v, want *BadHistoryError naming a named pipe", err)
	}
}
