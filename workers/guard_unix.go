//go:build unix

package workers

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/godist/godist/internal/proc"
)

// MainIfGuard makes the program a test binary's guard when Local started
// it so (Request.Guard): it starts the command in its arguments as its
// child, in its process group and, on Linux, killed should the guard die;
// it ignores the signals sent to the group (they are for the test); it
// writes on fd 3 how the child ended and exits 0. It never returns then.
// Otherwise it records that the program can be its own guard and returns
// at once. Call it first thing in main (after isolate.MainIfShim, which
// may exec into it), and in TestMain of tests that run workers.
func MainIfGuard() {
	if os.Getenv(envGuard) == "" {
		if exe, err := os.Executable(); err == nil {
			guardExe = exe
		}
		return
	}
	status := os.NewFile(3, "guard status")
	syscall.CloseOnExec(3) // the test binary does not get it
	os.Unsetenv(envGuard)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	if len(os.Args) < 2 {
		fmt.Fprintln(status, guardStatus(-1, "", fmt.Errorf("godist guard: no command given")))
		proc.ExitNow()
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	proc.SetDeathSignal(cmd.SysProcAttr)
	err := cmd.Run()
	o, err := proc.OutcomeOf(cmd, err)
	fmt.Fprintln(status, guardStatus(o.ExitCode, o.Signal, err))
	proc.ExitNow()
}
