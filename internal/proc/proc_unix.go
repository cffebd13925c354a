//go:build unix

package proc

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

func setGroup(cmd *exec.Cmd, dieWithParent bool) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if dieWithParent {
		setDeathSignal(cmd.SysProcAttr)
	}
}

func signalGroup(p *os.Process, sig Sig) error {
	s := syscall.SIGKILL
	switch sig {
	case Quit:
		s = syscall.SIGQUIT
	case Interrupt:
		s = syscall.SIGINT
	case Term:
		s = syscall.SIGTERM
	}
	err := syscall.Kill(-p.Pid, s)
	if err == syscall.ESRCH {
		return os.ErrProcessDone
	}
	return err
}

func signaled(ps *os.ProcessState) (string, bool) {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal().String(), true
	}
	return "", false
}

// SelfUsage is the CPU time this process used so far and its peak resident
// set size in KiB (as getrusage reports it on Linux; darwin reports bytes,
// converted here).
func SelfUsage() (cpu time.Duration, maxRSSKiB int64, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0, false
	}
	rss := int64(ru.Maxrss) // int32 on 32-bit platforms
	if runtime.GOOS == "darwin" {
		rss /= 1024
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rss, true
}

// hasGroups: the platform has process groups (Watch works).
const hasGroups = true

func killGroupID(pgid int) { syscall.Kill(-pgid, syscall.SIGKILL) }

// ExitNow exits 0 at once: not os.Exit, which in a -race build waits a
// second for the race detector's report.
func ExitNow() { syscall.Exit(0) }
