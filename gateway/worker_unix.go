//go:build unix

package gateway

import (
	"errors"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// takeStdio moves the protocol off fds 0 and 1 to private descriptors and
// points fd 0 at /dev/null and fd 1 at stderr.
func takeStdio() (in, out *os.File, err error) {
	rfd, err := privateFD(0)
	if err != nil {
		return nil, nil, err
	}
	wfd, err := privateFD(1)
	if err != nil {
		return nil, nil, err
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer null.Close()
	if err := unix.Dup2(int(null.Fd()), 0); err != nil {
		return nil, nil, err
	}
	if err := unix.Dup2(2, 1); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(rfd), "godist-stdin"), os.NewFile(uintptr(wfd), "godist-stdout"), nil
}

// privateFD duplicates fd to a close-on-exec, non-blocking descriptor, so
// that os.File uses the poller and Close interrupts a blocked Read.
func privateFD(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, err
	}
	return nfd, nil
}

// renice adds n to the niceness of the process. On Linux niceness belongs
// to threads: setpriority(PRIO_PROCESS, 0) changes only the calling thread
// and new threads inherit from their creator, so every thread is set to the
// process's niceness + n, absolutely (a thread created from an already
// reniced one must not get n twice), until a pass finds no thread left.
func renice(n int) error {
	base, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return err
	}
	if runtime.GOOS == "linux" {
		base = 20 - base // the raw syscall returns 20-nice
	}
	target := base + n
	if runtime.GOOS != "linux" {
		return unix.Setpriority(unix.PRIO_PROCESS, 0, target)
	}
	done := map[int]bool{}
	var errs []error
	for pass := 0; pass < 10; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return unix.Setpriority(unix.PRIO_PROCESS, 0, target)
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			done[tid] = true
			fresh++
			if err := unix.Setpriority(unix.PRIO_PROCESS, tid, target); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, err)
			}
		}
		if fresh == 0 {
			break
		}
	}
	return errors.Join(errs...)
}
