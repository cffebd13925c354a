package main

import (
	"context"
	"io"
	"os/exec"
	"sync"

	"github.com/godist/godist/internal/proc"
)

// procRequest is one test-binary process to run.
type procRequest struct {
	Argv []string // Argv[0] is the binary path as the worker sees it
	Dir  string   // working directory: the package directory
	Env  []string // appended to the worker's environment
	// Kill delivers signals for the running process ("QUIT" for a
	// goroutine dump, "KILL"); nil when nobody will send any.
	Kill <-chan string
}

// procResult is how a test process ended.
type procResult struct {
	ExitCode int    // -1 when killed by a signal
	Signal   string // the signal's name when killed by one
}

// procRunner runs test processes somewhere: in the controller itself or on a
// worker gateway. runProc streams the process's combined stdout and stderr
// to out as it arrives. A non-nil error means the runner itself broke (a lost
// worker), never that the test process failed.
type procRunner interface {
	runProc(ctx context.Context, req procRequest, out io.Writer) (procResult, error)
}

// localRunner runs test processes as children of the controller.
type localRunner struct{}

func (localRunner) runProc(ctx context.Context, req procRequest, out io.Writer) (procResult, error) {
	cmd := exec.CommandContext(ctx, req.Argv[0], req.Argv[1:]...)
	cmd.Dir = req.Dir
	cmd.Env = append(cmd.Environ(), req.Env...)
	cmd.Stdout = out
	cmd.Stderr = out
	// A process group of its own, so that killing the test also kills what
	// it started, and a terminal's Ctrl-C reaches godist first; and death
	// with godist, should godist be killed outright.
	proc.Group(cmd, proc.Options{DieWithParent: true})
	if err := cmd.Start(); err != nil {
		return procResult{ExitCode: -1}, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	if req.Kill != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case sig := <-req.Kill:
					proc.Signal(cmd.Process, proc.ParseSig(sig))
				case <-done:
					return
				}
			}
		}()
	}
	err := cmd.Wait()
	close(done)
	wg.Wait()
	return resultOf(cmd, err)
}

// resultOf turns what exec.Cmd.Run returned into a procResult; only a
// failure to start the binary at all is an error.
func resultOf(cmd *exec.Cmd, err error) (procResult, error) {
	o, err := proc.OutcomeOf(cmd, err)
	return procResult{ExitCode: o.ExitCode, Signal: o.Signal}, err
}
