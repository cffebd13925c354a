package collector

import (
	"strconv"
	"strings"
	"time"
)

// Finish marks the end of the process, which exited with exitCode
// (use -1 for death by signal or a lost connection, [ExitUnknown] for a
// failure with no known status). If tests were still
// running, each gets an output line with the reason, a "--- FAIL" line and
// a fail event, innermost first; reason overrides the default text
// "test binary exited with status N while running TestX". A clean run emits
// nothing more than pending results. Finish may be called once.
func (c *ProcessConverter) Finish(exitCode int, reason string) *ProcessResult {
	if c.finished {
		panic("collector: ProcessConverter.Finish called twice")
	}
	c.in.flush()
	c.out.flush()
	c.flushPending(0)
	c.finished = true

	r := &c.result
	r.ExitCode = exitCode
	var running []string
	seen := make(map[string]bool)
	for i := len(c.started) - 1; i >= 0; i-- {
		if name := c.started[i]; !c.tests[name].done && !seen[name] {
			seen[name] = true
			running = append(running, name)
		}
	}
	r.Unterminated = c.lastByte != 0 && c.lastByte != '\n'
	r.TimedOut = c.timedOut
	if c.timedOut {
		// As go test reports it: the panic, attributed to the tests that
		// were running, which get no result; the package fails.
		for _, name := range running {
			c.tests[name].done = true
		}
		running = nil
	}
	if len(running) > 0 {
		if reason == "" {
			reason = c.defaultReason(exitCode, running)
		}
		c.interrupt(running, reason)
	} else if exitCode != 0 && reason == "" && !c.timedOut {
		reason = exitText(exitCode)
		if exitCode > 0 {
			reason = "exit status " + strconv.Itoa(exitCode) // go test's words
			r.ReasonImplied = c.lastByte != 0
		}
		// go test ran it and printed what it prints about its end.
		r.ReasonImplied = r.ReasonImplied || exitCode == ExitUnknown
	}
	if exitCode != 0 || len(running) > 0 || c.timedOut {
		r.Reason = reason
		r.Failed = true
	}
	for _, name := range c.requested {
		if _, ok := c.tests[name]; !ok {
			r.NotStarted = append(r.NotStarted, name)
		}
	}
	if len(running) > 0 || exitCode != 0 && !r.SawPass && !r.SawFail {
		r.Requeue = r.NotStarted
	}
	if c.onFinish != nil {
		c.onFinish(r)
	}
	return r
}

// Abort ends a process whose outcome cannot be trusted, such as one on a
// worker that was lost: it synthesizes nothing, and NotStarted and Requeue
// list every requested top-level test that did not finish. Only a
// process from [Merger.NewProcess] with hold set can take back the events
// of those unfinished tests; anywhere else Abort is Finish(-1, reason).
// Abort or Finish may be called once.
func (c *ProcessConverter) Abort(reason string) *ProcessResult {
	if c.onAbort == nil {
		return c.Finish(-1, reason)
	}
	if c.finished {
		panic("collector: ProcessConverter.Abort after Finish")
	}
	c.in.flush()
	c.out.flush()
	c.flushPending(0)
	c.finished = true
	r := &c.result
	r.ExitCode, r.Reason, r.Aborted = -1, reason, true
	for _, name := range c.requested {
		if st, ok := c.tests[name]; !ok || !st.done {
			r.NotStarted = append(r.NotStarted, name)
		}
	}
	r.Requeue = r.NotStarted
	c.onAbort(r)
	return r
}

// ExitUnknown is the exit code to give Finish for a process known to have
// failed when its exit status is not (go test -json does not report it).
const ExitUnknown = -2

func exitText(code int) string {
	if code == ExitUnknown {
		return "test binary exited with a failure status"
	}
	if code < 0 {
		return "test binary was killed"
	}
	return "test binary exited with status " + strconv.Itoa(code)
}

// defaultReason names the innermost running tests (those without a running
// subtest).
func (c *ProcessConverter) defaultReason(code int, running []string) string {
	hasChild := make(map[string]bool)
	for _, name := range running {
		hasChild[c.tests[name].parent] = true
	}
	var leaves []string
	for i := len(running) - 1; i >= 0; i-- {
		if !hasChild[running[i]] {
			leaves = append(leaves, running[i])
		}
	}
	return exitText(code) + " while running " + strings.Join(leaves, ", ")
}

// interrupt fails the running tests, given innermost (latest) first.
func (c *ProcessConverter) interrupt(running []string, reason string) {
	now := c.clock()
	reasonLine := reason + "\n"
	hasChild := make(map[string]bool)
	for _, name := range running {
		hasChild[c.tests[name].parent] = true
	}
	for _, name := range running {
		st := c.tests[name]
		elapsed := roundCenti(now.Sub(st.start))
		if !hasChild[name] {
			c.emitOutput(name, reasonLine)
		}
		c.emitOutput(name, strings.Repeat("    ", st.depth)+"--- FAIL: "+name+" ("+strconv.FormatFloat(elapsed, 'f', 2, 64)+"s)\n")
		c.send(Event{Action: "fail", Test: name, Elapsed: &elapsed})
		st.done = true
		st.outcome = "fail"
		c.result.Interrupted = append(c.result.Interrupted, name)
	}
}

func roundCenti(d time.Duration) float64 {
	return float64(d.Round(10*time.Millisecond)/(10*time.Millisecond)) / 100
}
