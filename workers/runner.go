// Package workers runs test processes: here (Local) or on worker gateways
// (Remote), through one implementation. A Remote reaches its gateway with
// remote_exec, but what it ships is a few lines calling Serve, the compiled
// worker half of the protocol (gateway.Provide makes it importable there):
// the worker runs the same Local code the controller runs, so local and
// remote test processes start, stream, time out and end alike.
//
// The protocol on a Remote's channel, one process at a time:
//
//	controller -> worker: {op: "run", argv, dir, env, deadline, waitdelay, quitgrace, isolate, guard}
//	worker -> controller: {out: BYTES}... as the process writes them,
//	                      then {end: true, exit, signal, ioincomplete, timedout, isolation, parentkilled, err}
//	controller -> worker while running: {op: "kill", sig: "QUIT"|"KILL"}
//
// and, for workers that do not share the controller's filesystem, test
// bundles (package bundle):
//
//	controller -> worker: {op: "bundle", hash}
//	worker -> controller: {have: BOOL, dir}
//	controller -> worker (if not): {op: "file", file, data, mode}..., {op: "done"} (or {op: "abort"})
//	worker -> controller: {dir} or {err}
//
// The controller closing the channel ends Serve and kills a running process.
package workers

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/gateway"
	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/isolate"
)

// Request is one test process to run.
type Request struct {
	Argv []string // Argv[0] is the binary's path where the process runs
	Dir  string   // working directory: the package directory
	Env  []string // appended to the runner's environment
	// Deadline, if positive, bounds the process's wall time as go test's
	// kill timeout does: at Deadline it gets SIGQUIT (a goroutine dump),
	// and SIGKILL one WaitDelay later.
	Deadline time.Duration
	// WaitDelay bounds how long the output may stay open after the process
	// exited (a child it left holding stdout) and how long a process has
	// between SIGQUIT and SIGKILL; 0 means 5s, go test's minimum.
	WaitDelay time.Duration
	// Kill delivers signals for the running process's group: Quit for a
	// goroutine dump (escalated to Kill after QuitGrace, for a process
	// that ignores it), Kill; nil when nobody will send any.
	Kill <-chan proc.Sig
	// QuitGrace is how long a process has after a Quit from Kill before
	// it is killed; 0 means WaitDelay.
	QuitGrace time.Duration
	// Isolate runs the process in a network namespace of its own, with
	// only loopback up, where the worker's system allows one (package
	// isolate), and with a TMPDIR of its own everywhere.
	Isolate bool
	// Guard starts the process through a guard (guard.go), which the
	// test, not the runner, dies with should it kill its parent.
	Guard bool
}

func (r Request) quitGrace() time.Duration {
	if r.QuitGrace > 0 {
		return r.QuitGrace
	}
	return r.waitDelay()
}

func (r Request) waitDelay() time.Duration {
	if r.WaitDelay > 0 {
		return r.WaitDelay
	}
	return 5 * time.Second
}

// Result is how a test process ended.
type Result struct {
	proc.Outcome
	// TimedOut: the process was still running at Request.Deadline.
	TimedOut bool
	// Isolation is the isolate mode the process ran in ("none",
	// "net-root", "net-user"); "" when Request.Isolate was not set.
	Isolation string
	// ParentKilled: the process's guard was killed, not by the runner,
	// before the process ended: the test killed its parent, most likely.
	// The process died with it.
	ParentKilled bool
}

// Runner runs test processes somewhere. Run streams the process's combined
// stdout and stderr to out as it arrives. A non-nil error means the runner
// itself broke (a lost worker, a binary that cannot start), never that the
// test process failed.
type Runner interface {
	Run(ctx context.Context, req Request, out io.Writer) (Result, error)
}

// Local runs test processes as children of this process, each in a process
// group of its own (killing the test kills what it started, and a
// terminal's Ctrl-C reaches the controller first) that dies with this
// process on Linux.
type Local struct{}

// Run runs req; ctx ending kills the process's group.
func (Local) Run(ctx context.Context, req Request, out io.Writer) (Result, error) {
	if len(req.Argv) == 0 {
		return Result{Outcome: proc.Outcome{ExitCode: -1}}, errors.New("workers: empty argv")
	}
	argv := req.Argv
	guard := req.Guard && guarded()
	if guard {
		argv = append([]string{guardExe}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = req.Dir
	cmd.Env = append(testEnv(), req.Env...)
	cmd.Stdout = out
	cmd.Stderr = out
	proc.Group(cmd, proc.Options{DieWithParent: true, WaitDelay: req.waitDelay()})
	var status, statusW *os.File // the guard's report, read and write ends
	if guard {
		cmd.Env = append(cmd.Env, envGuard+"=1")
		var err error
		if status, statusW, err = os.Pipe(); err != nil {
			return Result{Outcome: proc.Outcome{ExitCode: -1}}, err
		}
		defer status.Close()
		defer statusW.Close()
		cmd.ExtraFiles = []*os.File{statusW}
	}
	start := cmd.Start
	var isolation string
	if req.Isolate {
		w, err := isolate.Wrap(cmd.Args, cmd.Env, cmd.SysProcAttr, isolate.Options{})
		if err != nil {
			return Result{Outcome: proc.Outcome{ExitCode: -1}}, err
		}
		defer w.Cleanup()
		cmd.Path, cmd.Args, cmd.Env, cmd.SysProcAttr = w.Argv[0], w.Argv, w.Env, w.SysProcAttr
		start = func() error { return w.Start(cmd) }
		isolation = w.Mode.String()
	}
	if err := start(); err != nil {
		return Result{Outcome: proc.Outcome{ExitCode: -1}}, err
	}
	if statusW != nil {
		statusW.Close() // the guard holds it now
	}
	s := &signaller{p: cmd.Process, grace: req.quitGrace(), deadlineGrace: req.waitDelay()}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.follow(req, done) })
	err := cmd.Wait()
	close(done)
	wg.Wait()
	s.stop()
	o, err := proc.OutcomeOf(cmd, err)
	res := Result{Outcome: o, TimedOut: s.timedOut(), Isolation: isolation}
	if status == nil || err != nil {
		return res, err
	}
	return guardResult(ctx, cmd, status, s, res)
}

// guardResult turns a guard's end into the test process's: the outcome
// the guard reported, or, for a guard killed before it reported by
// anyone but us, a test that killed its parent.
func guardResult(ctx context.Context, cmd *exec.Cmd, status *os.File, s *signaller, res Result) (Result, error) {
	b, _ := io.ReadAll(io.LimitReader(status, 64<<10))
	o, ok, err := parseGuardStatus(b)
	if ok {
		o.IOIncomplete = res.IOIncomplete
		res.Outcome = o
		return res, err
	}
	// The guard died first: what the test started dies too.
	proc.Signal(cmd.Process, proc.Kill)
	if ctx.Err() == nil && !s.sentKill() {
		res.ParentKilled = true
	}
	return res, nil
}

// signaller delivers a process's signals: the caller's, and the deadline's.
// A Quit is followed by a Kill after grace unless the process ended.
type signaller struct {
	p             *os.Process
	grace         time.Duration // after a caller's Quit
	deadlineGrace time.Duration // after the deadline's Quit

	mu       sync.Mutex
	escalate *time.Timer
	deadline bool
	killed   bool // sent a signal other than Quit
	ended    bool
}

func (s *signaller) follow(req Request, done <-chan struct{}) {
	var deadline <-chan time.Time
	if req.Deadline > 0 {
		t := time.NewTimer(req.Deadline)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case sig := <-req.Kill: // nil: never
			s.send(sig, s.grace)
		case <-deadline:
			s.mu.Lock()
			s.deadline = true
			s.mu.Unlock()
			s.send(proc.Quit, s.deadlineGrace)
			deadline = nil
		case <-done:
			return
		}
	}
}

func (s *signaller) send(sig proc.Sig, grace time.Duration) {
	if sig != proc.Quit {
		s.kill(sig)
		return
	}
	proc.Signal(s.p, sig)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.escalate == nil && !s.ended {
		s.escalate = time.AfterFunc(grace, func() { s.kill(proc.Kill) })
	}
}

// kill sends a signal that ends the process, guard and all.
func (s *signaller) kill(sig proc.Sig) {
	s.mu.Lock()
	s.killed = true
	s.mu.Unlock()
	proc.Signal(s.p, sig)
}

// sentKill reports whether the process was sent a signal that ends it.
func (s *signaller) sentKill() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killed
}

func (s *signaller) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	if s.escalate != nil {
		s.escalate.Stop()
	}
}

func (s *signaller) timedOut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline
}

// testEnv is this process's environment without the variable that makes a
// godist a worker: a test binary that embeds godist must not take itself
// for one.
func testEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, gateway.WorkerEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}
