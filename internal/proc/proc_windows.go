package proc

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// setGroup: a new process group on Windows only keeps console Ctrl-C from
// reaching the child; Kill below ends the process itself.
func setGroup(cmd *exec.Cmd, _ bool) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= syscall.CREATE_NEW_PROCESS_GROUP
}

// signalGroup: Windows has no signals to send; every one of them kills.
func signalGroup(p *os.Process, _ Sig) error { return p.Kill() }

func signaled(*os.ProcessState) (string, bool) { return "", false }

// SelfUsage: not measured on Windows.
func SelfUsage() (cpu time.Duration, maxRSSKiB int64, ok bool) { return 0, 0, false }

// setDeathSignal: Windows has no parent-death signal.
func setDeathSignal(*syscall.SysProcAttr) {}

const hasGroups = false

func killGroupID(int) {}

func ExitNow() { os.Exit(0) }
