// Package tmpdir makes godist's temporary directories so that those a
// killed process left behind can be told from those in use, and removed:
// the process that made one holds a lock on it (flock, which the kernel
// drops when the process dies, however it dies) until it removes it.
// Sweep removes the directories nobody holds. Where there is no flock
// (Windows), directories are made alike and Sweep does nothing.
package tmpdir

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Prefixes name the directories Sweep may remove: only Make makes them.
var Prefixes = []string{"godist-run-", "godist-gopath-", "godist-isolate-"}

// MinAge spares directories younger than this from Sweep: one just made
// is not locked yet.
const MinAge = time.Minute

// Dir is a temporary directory this process holds.
type Dir struct {
	Path string
	lock *os.File // nil where there is no lock
}

// Make makes a directory in root (os.TempDir() when "") named prefix and
// a random suffix, prefix one of Prefixes, and locks it. Should the lock
// fail (no file descriptor left, say), the directory is made all the
// same, with a name Sweep leaves alone ("godist-tmp-"): it costs nothing
// to keep the process going.
func Make(root, prefix string) (*Dir, error) {
	if !known(prefix) {
		return nil, fmt.Errorf("tmpdir: unknown prefix %q", prefix)
	}
	path, err := os.MkdirTemp(root, prefix)
	if err != nil {
		return nil, err
	}
	lock, err := hold(path)
	if err != nil {
		os.Remove(path)
		if path, err = os.MkdirTemp(root, unswept); err != nil {
			return nil, err
		}
	}
	return &Dir{Path: path, lock: lock}, nil
}

// unswept starts the names of directories Make could not lock.
const unswept = "godist-tmp-"

// Remove removes the directory and all it holds, then lets go of it.
func (d *Dir) Remove() error {
	err := os.RemoveAll(d.Path)
	if d.lock != nil {
		d.lock.Close() // closing the descriptor drops the lock
		d.lock = nil
	}
	return err
}

func known(prefix string) bool {
	for _, p := range Prefixes {
		if prefix == p {
			return true
		}
	}
	return false
}

var (
	sweptMu sync.Mutex
	swept   = map[string]bool{}
)

// SweepOnce sweeps root unless this process did already: a long-lived
// process (a socket server, one gateway session per client) sweeps once.
func SweepOnce(root string) {
	sweptMu.Lock()
	done := swept[root]
	swept[root] = true
	sweptMu.Unlock()
	if !done {
		Sweep(root)
	}
}

// Sweep removes from root (os.TempDir() when "") the directories Make
// made whose process is gone, and returns how many it removed. It never
// touches a directory another process holds, one younger than MinAge, or
// one of another user.
func Sweep(root string) int {
	if root == "" {
		root = os.TempDir()
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || !hasPrefix(e.Name()) {
			continue
		}
		path := root + string(os.PathSeparator) + e.Name()
		info, err := os.Lstat(path)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < MinAge || !mine(info) {
			continue
		}
		if removeIfFree(path) {
			n++
		}
	}
	return n
}

func hasPrefix(name string) bool {
	for _, p := range Prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
