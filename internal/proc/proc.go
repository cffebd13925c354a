// Package proc starts the processes godist runs — test binaries, the go
// command, workers — so that each is stopped whole: in a process group of
// its own where the platform has them (what a process starts dies with
// it), killed by exec.Cmd.Cancel when its context ends, its pipes bounded
// by WaitDelay, and on Linux killed with its parent should the parent die
// outright. Signal delivers a named signal to that group; Outcome says how
// the process ended.
//
// The platform parts sit in proc_unix.go, proc_linux.go and
// proc_windows.go; every platform godist's controller runs on builds.
package proc

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Options say how Group sets up a command.
type Options struct {
	// DieWithParent kills the process when the parent dies (Linux only:
	// PR_SET_PDEATHSIG; elsewhere it has no effect).
	DieWithParent bool
	// WaitDelay bounds how long Wait waits for the process's output pipes
	// after it exited or was killed (exec.Cmd.WaitDelay); 0 means 5s.
	WaitDelay time.Duration
	// CancelSignal is what Cancel sends the group when the command's
	// context ends; "" means Kill. Interrupt lets the process clean up
	// (WaitDelay then bounds how long it may take before Wait kills it).
	CancelSignal Sig
}

// Sig names a signal portably.
type Sig string

// The signals godist sends. Quit asks a Go program for its goroutine dump;
// on Windows, which has no such signals, every one of them kills.
const (
	Kill      Sig = "KILL"
	Quit      Sig = "QUIT"
	Interrupt Sig = "INT"
	Term      Sig = "TERM"
)

// ParseSig turns a signal's name ("QUIT", "KILL", ...) into a Sig; unknown
// names are Kill, the safe choice for a process that must end.
func ParseSig(s string) Sig {
	switch Sig(s) {
	case Quit, Interrupt, Term:
		return Sig(s)
	}
	return Kill
}

// Group sets cmd, made by exec.CommandContext, up to run in a process
// group of its own, with Cancel signalling that whole group and WaitDelay
// set. Call it before Start; it keeps SysProcAttr fields a caller set.
func Group(cmd *exec.Cmd, opts Options) {
	setGroup(cmd, opts.DieWithParent)
	sig := opts.CancelSignal
	if sig == "" {
		sig = Kill
	}
	cmd.Cancel = func() error { return Signal(cmd.Process, sig) }
	cmd.WaitDelay = opts.WaitDelay
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = 5 * time.Second
	}
}

// Signal sends sig to p's process group (to p alone where there are no
// groups). A process that already ended is not an error.
func Signal(p *os.Process, sig Sig) error {
	if p == nil {
		return nil
	}
	err := signalGroup(p, sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Outcome is how a process ended.
type Outcome struct {
	ExitCode int    // -1 when killed by a signal or not started
	Signal   string // the signal's name when killed by one ("killed", "quit", as the os package names them)
	// IOIncomplete: the process exited, but something it started kept its
	// output open past WaitDelay (go test's "Test I/O incomplete").
	IOIncomplete bool
}

// OutcomeOf turns what exec.Cmd.Wait (or Run) returned into an Outcome.
// Only a failure to run the binary at all is an error; an exit status or a
// signal is an outcome.
func OutcomeOf(cmd *exec.Cmd, err error) (Outcome, error) {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return Outcome{}, nil
	case errors.As(err, &exitErr):
		o := Outcome{ExitCode: exitErr.ExitCode()}
		if name, ok := signaled(exitErr.ProcessState); ok {
			o.ExitCode, o.Signal = -1, name
		}
		return o, nil
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil:
		o := Outcome{ExitCode: cmd.ProcessState.ExitCode(), IOIncomplete: true}
		if name, ok := signaled(cmd.ProcessState); ok {
			o.ExitCode, o.Signal = -1, name
		}
		return o, nil
	}
	return Outcome{ExitCode: -1}, err
}

// CPUTime is the user and system CPU time a finished process used.
func CPUTime(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// SetDeathSignal makes the kernel kill a child started with a when the
// thread that started it ends (Linux only; elsewhere it does nothing).
// Group does it for DieWithParent; this is for a child that stays in its
// parent's process group.
func SetDeathSignal(a *syscall.SysProcAttr) { setDeathSignal(a) }
