//go:build unix

package tmpdir

import (
	"io/fs"
	"os"
	"syscall"
)

// hold opens path and takes its lock; the descriptor is not inherited by
// children (os.Open sets close-on-exec), so only this process holds it.
func hold(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// removeIfFree removes path when no process holds its lock.
func removeIfFree(path string) bool {
	f, err := hold(path)
	if err != nil {
		return false // held (EWOULDBLOCK), or not ours to open
	}
	defer f.Close()
	return os.RemoveAll(path) == nil
}

func mine(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
