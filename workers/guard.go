package workers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/godist/godist/internal/proc"
)

// A test may kill the process that started its test binary (os.Getppid,
// then SIGKILL): go test dies with it. Under a worker that process is the
// worker, whose loss would take the test's output along and send its
// tests round again, where the same test kills the next worker.
// Request.Guard starts the test binary through a guard instead: this
// program again (MainIfGuard), whose only work is to be the binary's
// parent and report, on a pipe, how the binary ended. A guard killed
// before it reported is a test process that killed its parent: the worker
// lives on and says so (Result.ParentKilled), and the test fails with the
// output it had. Guarding costs one short-lived process per test process,
// so godist guards the processes of packages that lost a worker before
// and those run in the controller itself.

// envGuard makes MainIfGuard the guard of the command in its arguments.
const envGuard = "GODIST_TEST_GUARD"

// guardExe is this program, when MainIfGuard found it can be its own
// guard; "" where Request.Guard has no effect.
var guardExe string

// guardStatus is the guard's report on fd 3: "exit N", "signal NAME" or
// "error TEXT" (the binary did not start).
func guardStatus(exitCode int, signal string, err error) string {
	switch {
	case err != nil:
		return "error " + err.Error()
	case signal != "":
		return "signal " + signal
	}
	return "exit " + strconv.Itoa(exitCode)
}

// parseGuardStatus reads a guard's report; ok is false when there was
// none (the guard died first).
func parseGuardStatus(b []byte) (o proc.Outcome, ok bool, err error) {
	s := strings.TrimSuffix(string(b), "\n")
	verb, rest, _ := strings.Cut(s, " ")
	switch verb {
	case "exit":
		n, perr := strconv.Atoi(rest)
		if perr != nil {
			return proc.Outcome{ExitCode: -1}, true, fmt.Errorf("workers: guard: bad status %q", s)
		}
		return proc.Outcome{ExitCode: n}, true, nil
	case "signal":
		return proc.Outcome{ExitCode: -1, Signal: rest}, true, nil
	case "error":
		return proc.Outcome{ExitCode: -1}, true, errors.New(rest)
	case "":
		return proc.Outcome{}, false, nil
	}
	return proc.Outcome{ExitCode: -1}, true, fmt.Errorf("workers: guard: bad status %q", s)
}

// guarded reports whether this program can guard test processes.
func guarded() bool { return guardExe != "" }
