package proc

import "syscall"

// setDeathSignal makes the kernel kill the child when the thread that
// started it ends: with godist killed outright, its test processes go too.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
