package collector

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Clock returns the current time; [time.Now] unless a test injects another.
type Clock func() time.Time

var (
	framingPrefixes = [][]byte{
		[]byte("=== RUN   "),
		[]byte("=== PAUSE "),
		[]byte("=== CONT  "),
		[]byte("=== NAME  "),
		[]byte("=== PASS  "),
		[]byte("=== FAIL  "),
		[]byte("=== SKIP  "),
		[]byte("=== ATTR  "),
		[]byte("=== ARTIFACTS "),
	}
	resultPrefixes = [][]byte{
		[]byte("--- PASS: "),
		[]byte("--- FAIL: "),
		[]byte("--- SKIP: "),
		[]byte("--- BENCH: "),
	}
	indentUnit = []byte("    ")
)

// ProcessConverter converts the output of one test-binary process, run with
// -test.v=test2json, into the events `go test -json` prints for it. Write
// feeds it bytes in any chunking; Finish ends the process.
//
// Like cmd/internal/test2json it emits a result event (pass/fail/skip) when
// the next framing line or the end of the output shows that the result's
// output is complete. It does not emit start or package-level result events:
// those belong to the package ([Merger]).
type ProcessConverter struct {
	pkg       string
	clock     Clock
	emit      func(Event)
	requested []string
	onFinish  func(*ProcessResult)
	onAbort   func(*ProcessResult)
	batch     *batch // the Merger's, for a process it made
	timedOut  bool   // the binary panicked at its -test.timeout

	in, out    lineSplitter
	current    string  // test that output is attributed to
	pending    []Event // result events waiting for their output
	needMarker bool    // framing lines must start with ^V

	tests        map[string]*testState
	started      []string // in run order
	runningBench []string
	result       ProcessResult
	lastByte     byte // last byte of output passed on, 0 if none
	finished     bool
	worker       string // SetWorker's id, "" for none
}

// WorkerAttr is the attribute key (an "attr" event, an "=== ATTR" line in
// -v output, a test case property in JUnit) naming the worker that ran a
// top-level test, like pytest-xdist's [gw3].
const WorkerAttr = "godist.worker"

// The attributes of a CI shard's manifest (scheduler.ShardPlan):
// package-level "attr" events at the head of the shard's -json stream
// (and --jsonfile), which text, formats and JUnit leave out.
const (
	// ShardAttr holds "I/N FINGERPRINT TOTAL" (I 1-based), on the first
	// package of the run, which every shard of a split names.
	ShardAttr = "godist.shard"
	// ShardTestsAttr holds the space-separated top-level tests the shard
	// owns in its package, on each package where it owns some.
	ShardTestsAttr = "godist.shard.tests"
)

// IsShardManifest reports whether e is an event of a shard's manifest.
func IsShardManifest(e Event) bool {
	return e.Action == "attr" && e.Test == "" && (e.Key == ShardAttr || e.Key == ShardTestsAttr)
}

// workerAttrLine is the line go test -v prints for t.Attr(WorkerAttr, worker).
func workerAttrLine(test, worker string) string {
	return "=== ATTR  " + test + " " + WorkerAttr + " " + worker + "\n"
}

// SetWorker makes the converter report that this process runs on worker
// id: after each top-level test's run event it emits an attr event with
// key [WorkerAttr] and the "=== ATTR" output line go test -v prints for
// t.Attr. Call it before the first Write.
func (c *ProcessConverter) SetWorker(id string) {
	if strings.ContainsAny(id, " \r\n") {
		panic(fmt.Sprintf("collector: worker id %q holds white space", id))
	}
	c.worker = id
}

type testState struct {
	parent  string
	depth   int
	start   time.Time
	done    bool
	outcome string
}

// ProcessResult describes how one test process ended.
type ProcessResult struct {
	// ExitCode is the code given to Finish; Reason the explanation
	// emitted for an abnormal end ("" for a clean one).
	ExitCode int
	Reason   string
	// Failed reports a failing process, as go test judges a test binary:
	// a non-zero exit (or a death, or a timeout). A failed test or a FAIL
	// line does not fail a process that exits 0 (a TestMain that ignores
	// m.Run's result): go test prints ok for it.
	Failed bool
	// Started lists the top-level tests that started, in order;
	// NotStarted the requested top-level tests that did not.
	Started    []string
	NotStarted []string
	// Requeue is NotStarted if the process ended abnormally (died while a
	// test ran, exited non-zero without its final PASS/FAIL line, or was
	// aborted): those tests should run in another process. After a normal
	// end it is nil: tests that did not start were skipped by the binary
	// itself (-failfast, -skip, a TestMain that chose not to run them), and
	// requeueing them would loop forever.
	Requeue []string
	// Interrupted lists the tests that were running when the process ended
	// and were given a synthesized fail event, innermost first.
	Interrupted []string
	// Flags about the package-level lines the process printed.
	SawPass, SawFail, SawNoTests bool
	// Coverage is the text after "coverage: " if the process printed it.
	Coverage string
	// ReasonImplied: Reason only restates the exit status of a process
	// that printed output; go test does not add it (FAIL says it).
	ReasonImplied bool
	// Unterminated reports output that did not end with a newline.
	Unterminated bool
	// TimedOut: the binary panicked at its -test.timeout (TimeoutPanic);
	// the tests it was running get no result, as under go test.
	TimedOut bool
	// Aborted reports a process ended by Abort.
	Aborted bool
}

// NewProcessConverter returns a converter for one process of package pkg
// that was asked to run the top-level tests in requested (nil if unknown).
// Events go to emit in order; clock may be nil for time.Now.
func NewProcessConverter(pkg string, requested []string, clock Clock, emit func(Event)) *ProcessConverter {
	if clock == nil {
		clock = time.Now
	}
	c := &ProcessConverter{
		pkg:       pkg,
		clock:     clock,
		emit:      emit,
		requested: requested,
		tests:     make(map[string]*testState),
	}
	c.in = newLineSplitter(inputBufSize, c.handleLine, c.writeOutput)
	c.out = newLineSplitter(outputBufSize, c.outputEvent, c.outputEvent)
	return c
}

// Write feeds process output to the converter. It never fails.
func (c *ProcessConverter) Write(b []byte) (int, error) {
	if c.finished {
		panic("collector: ProcessConverter.Write after Finish")
	}
	c.in.write(b)
	return len(b), nil
}

// Tests reports the outcome of every test that started, by name: "" while
// running, else pass, fail or skip, or bench for a benchmark that ended
// without a result line.
func (c *ProcessConverter) Tests() map[string]string {
	m := make(map[string]string, len(c.tests))
	for name, st := range c.tests {
		m[name] = st.outcome
	}
	return m
}

// handleLine handles one whole input line (with its \n, if any).
func (c *ProcessConverter) handleLine(line []byte) {
	if len(line) == 0 {
		return
	}
	marked := line[0] == frameMarker
	if !marked && bytes.HasPrefix(line, []byte(TimeoutPanic)) {
		c.timedOut = true
	}
	if c.needMarker && !marked {
		c.writeOutput(line)
		return
	}
	if marked {
		c.out.flush()
		line = line[1:]
	}
	text := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if string(text) == "=== NAME" {
		// "=== NAME  " with no test name may lose its trailing spaces.
		line = []byte("=== NAME  \n")
		text = line[:len(line)-1]
	}

	if c.packageResultLine(text) {
		c.flushPending(0)
		c.needMarker = marked
		c.writeOutput(line)
		return
	}

	if hasAnyPrefix(line, framingPrefixes) {
		c.framing(line, marked)
		return
	}
	depth := 0
	rest := line
	for bytes.HasPrefix(rest, indentUnit) {
		rest = rest[len(indentUnit):]
		depth++
	}
	if hasAnyPrefix(rest, resultPrefixes) {
		c.resultLine(line, rest, depth, marked)
		return
	}
	// Plain output: indentation selects the (sub)test that logged it.
	if depth > 0 && depth <= len(c.pending) {
		c.current = c.pending[depth-1].Test
	}
	c.writeOutput(line)
}

// TimeoutPanic begins the line the testing package prints when the binary
// runs past its -test.timeout.
const TimeoutPanic = "panic: test timed out after "

// packageResultLine reports whether text is the binary's final PASS or FAIL
// line (or go test's "FAIL\tpkg..." line), recording which.
func (c *ProcessConverter) packageResultLine(text []byte) bool {
	switch s := string(text); {
	case s == "PASS":
		c.endBenchmarks()
		c.result.SawPass = true
	case s == "FAIL" || strings.HasPrefix(s, "FAIL\t"):
		c.endBenchmarks()
		// Not Failed by itself: as under go test, the process's verdict
		// is its exit status (a TestMain may print FAIL and exit 0).
		c.result.SawFail = true
	default:
		return false
	}
	return true
}

func hasAnyPrefix(b []byte, prefixes [][]byte) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(b, p) {
			return true
		}
	}
	return false
}

// framing handles "=== ACTION name" lines.
func (c *ProcessConverter) framing(line []byte, marked bool) {
	action, name, _ := strings.Cut(string(line[len("=== "):]), " ")
	action = strings.ToLower(action)
	name = strings.TrimSpace(name)
	e := Event{Action: action}
	switch action {
	case "artifacts":
		name, e.Path, _ = strings.Cut(name, " ")
	case "attr":
		var kv string
		name, kv, _ = strings.Cut(name, " ")
		e.Key, e.Value, _ = strings.Cut(kv, " ")
	}
	c.needMarker = marked
	c.flushPending(0)
	c.current = name
	switch action {
	case "name":
		return // only sets the attribution
	case "run":
		c.started1(name)
	case "pass", "fail", "skip":
		c.finished1(name, action)
	}
	if action == "pause" {
		c.writeOutput(line)
		c.send(e)
		return
	}
	c.send(e)
	c.writeOutput(line)
	if action == "run" && c.worker != "" && c.tests[name].parent == "" {
		c.send(Event{Action: "attr", Key: WorkerAttr, Value: c.worker})
		c.writeOutput([]byte(workerAttrLine(name, c.worker)))
	}
}

// resultLine handles "--- PASS: name (0.00s)" lines, possibly indented.
func (c *ProcessConverter) resultLine(line, rest []byte, depth int, marked bool) {
	action, name, _ := strings.Cut(string(rest[len("--- "):]), " ")
	action = strings.ToLower(strings.TrimSuffix(action, ":"))
	name = strings.TrimSpace(name)
	e := Event{Action: action}
	if i := strings.Index(name, " ("); i >= 0 {
		if secs, ok := strings.CutSuffix(name[i+2:], "s)"); ok {
			if t, err := strconv.ParseFloat(secs, 64); err == nil {
				e.Elapsed = &t
			}
		}
		name = name[:i]
	}
	if len(c.pending) < depth {
		c.writeOutput(line) // deeper than any known test: plain output
		return
	}
	c.needMarker = marked
	c.flushPending(depth)
	e.Test = name
	c.current = name
	c.pending = append(c.pending, e)
	c.writeOutput(line)
}

// flushPending emits the pending result events at depth and deeper.
func (c *ProcessConverter) flushPending(depth int) {
	c.current = ""
	for len(c.pending) > depth {
		e := c.pending[len(c.pending)-1]
		c.pending = c.pending[:len(c.pending)-1]
		c.finished1(e.Test, e.Action)
		c.send(e)
	}
}

func (c *ProcessConverter) started1(name string) {
	parent, depth := "", 0
	// The parent is the longest running test whose name prefixes ours;
	// t.Run("a/b") makes TestX/a/b a direct child of TestX.
	for p := name; ; {
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
		if st, ok := c.tests[p]; ok && !st.done {
			parent, depth = p, st.depth+1
			break
		}
	}
	if st, ok := c.tests[name]; ok && !st.done {
		return // a second === RUN for a running test (cannot happen in go test)
	}
	if parent == "" {
		c.endBenchmarks()
	}
	if parent == "" && !c.seenTop(name) {
		c.result.Started = append(c.result.Started, name)
	}
	c.tests[name] = &testState{parent: parent, depth: depth, start: c.clock()}
	if strings.HasPrefix(name, "Benchmark") {
		c.runningBench = append(c.runningBench, name)
	}
	c.started = append(c.started, name)
}

// endBenchmarks marks running benchmarks as done: go test gives a
// benchmark a run event and no result unless it fails or logs, so a
// benchmark ends when the next top-level test starts or the binary prints
// PASS or FAIL. One that is running when the process dies is failed.
func (c *ProcessConverter) endBenchmarks() {
	for _, name := range c.runningBench {
		if st := c.tests[name]; !st.done {
			st.done = true
			st.outcome = "bench"
		}
	}
	c.runningBench = c.runningBench[:0]
}

func (c *ProcessConverter) seenTop(name string) bool {
	for _, s := range c.result.Started {
		if s == name {
			return true
		}
	}
	return false
}

func (c *ProcessConverter) finished1(name, action string) {
	if action == "bench" {
		return
	}
	st, ok := c.tests[name]
	if !ok {
		// A result without === RUN (not seen from go test, but possible
		// from old binaries): record it so it is not reported as running.
		st = &testState{start: c.clock()}
		c.tests[name] = st
	}
	st.done = true
	st.outcome = action
	// A failed test does not by itself fail the process: as under go
	// test, the binary's exit status and its final PASS/FAIL line decide
	// (a test that runs tests of its own with testing.RunTests prints
	// nested --- FAIL lines and still passes).
}

// writeOutput passes text to the output splitter, attributed to c.current.
func (c *ProcessConverter) writeOutput(b []byte) {
	c.out.write(b)
}

// outputEvent emits one output event of at most outputBufSize bytes.
func (c *ProcessConverter) outputEvent(b []byte) {
	if len(b) == 0 {
		return
	}
	c.lastByte = b[len(b)-1]
	if c.current == "" {
		c.notePackageLine(b)
	}
	c.send(Event{Action: "output", Output: string(b)})
}

func (c *ProcessConverter) notePackageLine(b []byte) {
	s := string(b)
	if s == noTestsLine {
		c.result.SawNoTests = true
	}
	if cov, ok := strings.CutPrefix(s, "coverage: "); ok {
		c.result.Coverage = strings.TrimSuffix(cov, "\n")
	}
}

func (c *ProcessConverter) emitOutput(test, text string) {
	for len(text) > 0 {
		n := min(len(text), outputBufSize)
		if n < len(text) {
			n = utf8Boundary([]byte(text[:n]))
		}
		c.send(Event{Action: "output", Test: test, Output: text[:n]})
		text = text[n:]
	}
}

// send stamps e and passes it on; Test defaults to the current test.
func (c *ProcessConverter) send(e Event) {
	e.Package = c.pkg
	t := c.clock()
	e.Time = &t
	if e.Test == "" {
		e.Test = c.current
	}
	c.emit(e)
}

const noTestsLine = "testing: warning: no tests to run\n"
