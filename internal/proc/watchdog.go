package proc

import (
	"io"
	"os"
	"os/exec"
	"strconv"
)

// A process group godist started can outlive godist: killed outright,
// godist runs no code, and what it started dies only if the kernel kills
// it (DieWithParent, Linux, the direct child only). The go command's test
// binaries are its children, not godist's, and nothing would stop them.
// Watch starts a watchdog for such a group: this program again
// (MainIfWatchdog), holding a pipe from this process; when the pipe
// breaks without a word (this process died) it kills the group.

// envWatchdog makes MainIfWatchdog the watchdog of the group it names.
const envWatchdog = "GODIST_WATCHDOG_PGID"

// watchdogExe is this program when MainIfWatchdog found it can be its own
// watchdog; "" where Watch does nothing.
var watchdogExe string

// Watch starts a watchdog that kills the process group of p should this
// process die before it calls the returned stop. stop ends the watchdog
// (without a kill) and reaps it. Where there are no process groups, or
// the program has no watchdog (MainIfWatchdog was not called), Watch
// does nothing.
func Watch(p *os.Process) (stop func()) {
	if watchdogExe == "" || !hasGroups || p == nil {
		return func() {}
	}
	cmd := exec.Command(watchdogExe)
	cmd.Env = append(os.Environ(), envWatchdog+"="+strconv.Itoa(p.Pid))
	w, err := cmd.StdinPipe()
	if err != nil {
		return func() {}
	}
	setGroup(cmd, false) // not in the group it watches, nor in ours
	if err := cmd.Start(); err != nil {
		return func() {}
	}
	return func() {
		w.Write([]byte("done\n"))
		w.Close()
		cmd.Wait()
	}
}

// MainIfWatchdog makes the program the watchdog Watch started: it waits
// for its standard input to end and, unless it heard "done" first, kills
// the process group it was given; it never returns then. Otherwise it
// records that the program can be its own watchdog and returns at once.
// Call it first thing in main (and in TestMain of tests that run godist
// in-process).
func MainIfWatchdog() {
	v := os.Getenv(envWatchdog)
	if v == "" {
		if exe, err := os.Executable(); err == nil {
			watchdogExe = exe
		}
		return
	}
	pgid, err := strconv.Atoi(v)
	b, _ := io.ReadAll(os.Stdin)
	if err == nil && pgid > 0 && string(b) != "done\n" {
		killGroupID(pgid)
	}
	ExitNow()
}
