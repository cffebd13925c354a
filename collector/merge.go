package collector

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Merger builds the single go test-shaped event stream of one package from
// any number of test processes (batches) of that package, which may run
// concurrently. Its output: one start event; each batch's events in that
// batch's order; package-level output kept once however many batches
// printed it; the per-process noise (PASS, FAIL, ok, exit status, "no tests
// to run", coverage lines) dropped and replaced by one package summary; and
// one terminal event.
//
// The methods are safe for concurrent use; emit is called with the
// Merger's lock held.
type Merger struct {
	mu    sync.Mutex
	pkg   string
	clock Clock
	emit  func(Event)

	begun      time.Time
	started    bool
	ended      bool
	failed     bool
	running    int // batches created and not finished
	finished   int
	noTests    int // finished batches that printed "no tests to run"
	sawPass    bool
	sawFail    bool
	coverage   string
	covForced  bool
	sawShuffle bool
	lastByte   byte           // last byte of the last output emitted, 0 if none
	pkgLines   map[string]int // package-level line -> copies emitted
	trailer    []string       // package-level lines printed after PASS/FAIL, held for Finish
	trailLens  map[string]int // line -> copies held in trailer
	result     string

	// With reruns (SetReruns), a test that failed and then passed on a
	// rerun does not fail the package: the verdict comes from each
	// top-level test's last outcome and from failures no test explains.
	reruns       bool
	lastOutcome  map[string]string // top-level test -> its last pass/fail/skip
	otherFailed  bool              // a process failed with no failed test to show for it
	cleanExit    map[string]bool   // top-level test whose last failure came from a process that exited 0
	sawFailClean bool              // a process printed FAIL and exited 0
	reasons      map[string]bool   // package-level reasons said: once each (a confirm run repeats them)
	testFailed   bool              // a finished process had a failed test

	elapsed *time.Duration // SetElapsed's, if called
	cached  bool           // SetCached: the summary says (cached)

	splits      map[string]int       // top-level test run in parts -> number of parts
	splitBlocks map[string][][]Event // its parts' blocks so far
	splitOrder  map[string][]string  // its direct subtests in run order, if known
}

// SetReruns makes the package's verdict follow each top-level test's last
// outcome, for --rerun-fails: a test that failed and then passed is flaky,
// not failed. Failures no test explains (a TestMain exit, a lost worker's
// failed tests) still fail the package.
func (m *Merger) SetReruns() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reruns = true
}

// SetElapsed makes Finish report d as the package's elapsed time rather
// than the time since Start: for a package whose one process someone else
// timed (godist's go test path).
func (m *Merger) SetElapsed(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.elapsed = &d
}

// SetCached makes a passing package's summary line say "(cached)" where
// the elapsed time would go, with elapsed 0 in its terminal event, as go
// test reports a package its result cache served.
func (m *Merger) SetCached() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cached = true
}

// failedLocked is the package's verdict so far.
func (m *Merger) failedLocked() bool {
	if !m.reruns {
		return m.failed
	}
	if m.otherFailed {
		return true
	}
	for name, o := range m.lastOutcome {
		if o == "fail" && !m.cleanExit[name] {
			return true
		}
	}
	return false
}

// NewMerger returns a merger for package pkg. clock may be nil for
// time.Now. Nothing is emitted until Start or the first batch event.
func NewMerger(pkg string, clock Clock, emit func(Event)) *Merger {
	if clock == nil {
		clock = time.Now
	}
	return &Merger{pkg: pkg, clock: clock, emit: emit, pkgLines: make(map[string]int), trailLens: make(map[string]int)}
}

// Start emits the package's start event and starts its clock. Later calls
// do nothing.
func (m *Merger) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startLocked()
}

func (m *Merger) startLocked() {
	if m.started {
		return
	}
	m.started = true
	m.begun = m.clock()
	m.send(Event{Action: "start"})
}

// NewProcess returns the converter for one more process (batch) of the
// package, which was asked to run the top-level tests in requested. Its
// Finish records the process outcome in the package result.
//
// With hold false, its events flow into the merged stream as they are
// converted, as go test -json streams them. With hold true, the events of
// each top-level test (and its subtests) are held until that test ends and
// then emitted as one block: a test's events stay together, and
// [ProcessConverter.Abort] can drop the unfinished tests of a lost process
// so that they can be requeued without being reported twice.
func (m *Merger) NewProcess(requested []string, hold bool) *ProcessConverter {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended {
		panic("collector: Merger.NewProcess after the package ended")
	}
	m.running++
	b := &batch{m: m, counts: make(map[string]int), trailCounts: make(map[string]int)}
	c := NewProcessConverter(m.pkg, requested, m.clock, b.add)
	c.batch = b
	c.onFinish = b.finish
	if hold {
		b.held = make(map[string]*heldBlock)
		c.onAbort = b.abort
	}
	return c
}

// NewConfirmProcess is NewProcess (holding) for a process that runs
// failed tests again as go test would have run them: requested are all the
// tests it runs, in go test's order; only the events of the tests in
// report (and package-level output not seen before) reach the stream. The
// others ran before them for their side effects, as in go test's one
// process, and were reported already. A reported test that fails again is
// dropped too: its first failure stands, reported once. Call SetReruns
// first: the reported tests' last outcome decides.
func (m *Merger) NewConfirmProcess(requested, report []string) *ProcessConverter {
	c := m.NewProcess(requested, true)
	m.mu.Lock()
	defer m.mu.Unlock()
	b := c.batch
	b.only = map[string]bool{}
	for _, name := range report {
		b.only[name] = true
	}
	return c
}

// batch filters the events of one process.
type batch struct {
	m           *Merger
	counts      map[string]int // package-level line -> copies seen in this batch
	trailCounts map[string]int // the same after the process's PASS/FAIL line
	afterResult bool           // the process printed its PASS/FAIL line
	testFailed  bool
	heldFailed  bool                  // a released block held a fail event
	held        map[string]*heldBlock // hold mode: top-level test -> its events so far
	only        map[string]bool       // a confirm process: the top-level tests it reports; nil: all
	heldOrder   []string              // top-level tests with held events, by first event
	failedTop   []string              // top-level tests this batch reported failed
}

// topLevel returns the top-level test of a test name; top-level names
// cannot contain a slash.
func topLevel(test string) string {
	top, _, _ := strings.Cut(test, "/")
	return top
}

// hold keeps e back if the batch holds test events; it reports whether it
// did. Held events go out when their top-level test ends.
func (b *batch) hold(e Event) bool {
	if b.held == nil || e.Test == "" {
		return false
	}
	top := topLevel(e.Test)
	h := b.held[top]
	if h == nil {
		h = &heldBlock{}
		b.held[top] = h
		b.heldOrder = append(b.heldOrder, top)
	}
	h.add(e)
	if b.only != nil && e.Test == top && e.Action == "fail" {
		// The confirm run repeats the failure: the first one stands,
		// and the test is reported failed once.
		h.drop()
		delete(b.held, top)
		b.heldOrder = slices.DeleteFunc(b.heldOrder, func(s string) bool { return s == top })
		return true
	}
	if e.Test == top && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
		b.release(top)
	}
	return true
}

func (b *batch) release(top string) {
	h := b.held[top]
	if b.m.splits[top] > 0 {
		// One part of a split test: kept with its other parts.
		block := h.all()
		for _, e := range block {
			b.heldFailed = b.heldFailed || e.Action == "fail"
		}
		b.m.collectPartLocked(top, block)
	} else {
		h.each(func(e Event) {
			b.heldFailed = b.heldFailed || e.Action == "fail"
			b.m.emitLocked(e)
		})
	}
	delete(b.held, top)
	b.heldOrder = slices.DeleteFunc(b.heldOrder, func(s string) bool { return s == top })
}

// releaseAll emits what is still held (benchmarks, which get no result
// event), in order of first event.
func (b *batch) releaseAll() {
	for len(b.heldOrder) > 0 {
		b.release(b.heldOrder[0])
	}
}

func (b *batch) abort(*ProcessResult) {
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running--
	// The held events belong to tests that will run again elsewhere. The
	// process's package-level output stays; its result is unknown, so it
	// counts as failed only if a test it finished failed.
	for _, h := range b.held {
		h.drop()
	}
	b.held = nil
	b.heldOrder = nil
	if b.heldFailed {
		m.failed = true
		m.otherFailed = true
	}
}

func (b *batch) add(e Event) {
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended {
		panic("collector: event for package " + m.pkg + " after it ended")
	}
	m.startLocked()
	if e.Action == "fail" && e.Test != "" {
		b.testFailed = true
	}
	if b.only != nil && e.Test != "" && !b.only[topLevel(e.Test)] {
		return // context of a confirm run, reported before
	}
	if e.Action == "fail" && e.Test != "" && !strings.Contains(e.Test, "/") {
		b.failedTop = append(b.failedTop, e.Test)
	}
	if b.hold(e) {
		return
	}
	if e.Action == "output" && e.Test == "" {
		if IsProcessNoise(e.Output) {
			switch e.Output {
			case "PASS\n", "FAIL\n", "PASS", "FAIL":
				b.afterResult = true
			}
			return
		}
		if strings.HasPrefix(e.Output, "-test.shuffle ") {
			// Each process has its own seed; go test prints one line.
			if m.sawShuffle {
				return
			}
			m.sawShuffle = true
		}
		if b.afterResult {
			// TestMain's output after m.Run goes after the package's
			// PASS/FAIL line, which only Finish can write.
			b.trailCounts[e.Output]++
			if b.trailCounts[e.Output] > m.trailLens[e.Output] {
				m.trailLens[e.Output] = b.trailCounts[e.Output]
				m.trailer = append(m.trailer, e.Output)
			}
			return
		}
		// Output every process prints (TestMain, init) is kept once: the
		// n-th copy of a line in a batch is emitted only if no batch has
		// emitted n copies yet.
		b.counts[e.Output]++
		if b.counts[e.Output] <= m.pkgLines[e.Output] {
			return
		}
		m.pkgLines[e.Output] = b.counts[e.Output]
	}
	m.emitLocked(e)
}

func (b *batch) finish(r *ProcessResult) {
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startLocked()
	b.releaseAll()
	m.running--
	m.finished++
	if r.SawNoTests {
		m.noTests++
	}
	m.sawPass = m.sawPass || r.SawPass
	m.sawFail = m.sawFail || r.SawFail
	m.sawFailClean = m.sawFailClean || (r.SawFail && !r.Failed)
	m.testFailed = m.testFailed || b.testFailed
	if r.Coverage != "" && !m.covForced {
		m.coverage = r.Coverage
	}
	if !r.Failed {
		// The binary exited 0 although a test failed (a TestMain that
		// ignores m.Run's result): go test passes such a package, so
		// these failures, while they are their tests' last word, do not
		// fail it under reruns either.
		for _, name := range b.failedTop {
			if m.lastOutcome[name] == "fail" {
				if m.cleanExit == nil {
					m.cleanExit = map[string]bool{}
				}
				m.cleanExit[name] = true
			}
		}
	}
	if r.Failed {
		m.failed = true
		if !b.testFailed {
			m.otherFailed = true
		}
		if !b.testFailed && !r.SawFail && !r.SawPass && r.Reason != "" && !r.ReasonImplied {
			// Nothing in the stream says why this process failed. As go
			// test, which adds the exit status only to a binary that
			// printed nothing: after its own output (a TestMain's, a bad
			// -run's message, its PASS line) FAIL says it. A kill's
			// reason is always said.
			if !m.reasons[r.Reason] {
				if m.reasons == nil {
					m.reasons = map[string]bool{}
				}
				m.reasons[r.Reason] = true
				m.send(Event{Action: "output", Output: r.Reason + "\n"})
			}
		}
	}
}

var exitStatusLine = regexp.MustCompile(`^exit status -?\d+\n?$`)

// IsProcessNoise reports whether a package-level output line is one that
// every test process prints for itself and the package summary replaces:
// PASS, FAIL, ok/FAIL summaries, exit status, "no tests to run", coverage.
func IsProcessNoise(line string) bool {
	switch line {
	case "PASS\n", "FAIL\n", "PASS", "FAIL", noTestsLine:
		return true
	}
	return strings.HasPrefix(line, "ok  \t") || strings.HasPrefix(line, "FAIL\t") ||
		strings.HasPrefix(line, "coverage: ") || exitStatusLine.MatchString(line)
}

// SetCoverage sets the coverage text for the summary ("80.0% of
// statements"), overriding what the processes printed; batches cover parts
// of the package, so only the caller can know the merged figure.
func (m *Merger) SetCoverage(text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.coverage, m.covForced = text, true
}

// SetCoveragePercent sets the figure of the coverage text to pct
// ("80.0%", the merge of the package's processes' profiles), keeping the
// words its processes printed after theirs (" of statements", or " of
// statements in ./..." with -coverpkg); "[no statements]" is set as is.
func (m *Merger) SetCoveragePercent(pct string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	words := " of statements"
	if _, after, ok := strings.Cut(m.coverage, "%"); ok {
		words = after
	}
	if strings.HasPrefix(pct, "[") {
		words = ""
	}
	m.coverage, m.covForced = pct+words, true
}

// Fail marks the package as failed, with an optional package-level output
// line saying why (for example a worker lost with nothing to requeue on).
func (m *Merger) Fail(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startLocked()
	m.failed = true
	m.otherFailed = true
	if reason != "" {
		m.send(Event{Action: "output", Output: strings.TrimSuffix(reason, "\n") + "\n"})
	}
}

// Finish ends the package: the bare PASS/FAIL line, coverage, the summary
// line and the terminal event with the wall time since Start. It returns
// the package result: "pass" or "fail". All processes must have finished.
func (m *Merger) Finish() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended {
		return m.result
	}
	if m.running > 0 {
		panic(fmt.Sprintf("collector: Merger.Finish for %s with %d processes still running", m.pkg, m.running))
	}
	m.startLocked()
	m.flushSplitsLocked()
	elapsed := m.clock().Sub(m.begun)
	if m.elapsed != nil {
		elapsed = *m.elapsed
	}
	secs := fmt.Sprintf("%.3fs", elapsed.Seconds())
	if m.cached && !m.failedLocked() {
		secs, elapsed = "(cached)", 0
	}
	if m.failedLocked() {
		switch {
		case m.sawFail:
			m.send(Event{Action: "output", Output: "FAIL\n"})
		case m.sawPass && !m.testFailed:
			// Every test passed and the binary failed after its PASS
			// line (a TestMain's leak check): go test shows the PASS.
			m.send(Event{Action: "output", Output: "PASS\n"})
		}
		if m.coverage != "" {
			m.send(Event{Action: "output", Output: "coverage: " + m.coverage + "\n"})
		}
		m.sendTrailer()
		m.send(Event{Action: "output", Output: "FAIL\t" + m.pkg + "\t" + secs + "\n"})
		m.result = "fail"
	} else {
		norun := ""
		if m.finished == 0 || m.noTests == m.finished {
			norun = " [no tests to run]"
			m.send(Event{Action: "output", Output: noTestsLine})
		}
		switch {
		case m.sawFailClean:
			// A binary printed FAIL and exited 0: go test says ok after it.
			m.send(Event{Action: "output", Output: "FAIL\n"})
		case m.sawPass || m.finished == 0:
			m.send(Event{Action: "output", Output: "PASS\n"})
		}
		cov := ""
		if m.coverage != "" {
			m.send(Event{Action: "output", Output: "coverage: " + m.coverage + "\n"})
			cov = "\tcoverage: " + m.coverage
		}
		m.sendTrailer()
		m.send(Event{Action: "output", Output: "ok  \t" + m.pkg + "\t" + secs + cov + norun + "\n"})
		m.result = "pass"
	}
	m.terminal(m.result, elapsed, "")
	return m.result
}

// sendTrailer emits the held TestMain output and, like go test, a newline
// if the output so far does not end with one.
func (m *Merger) sendTrailer() {
	for _, line := range m.trailer {
		m.send(Event{Action: "output", Output: line})
	}
	m.trailer = nil
	if m.lastByte != 0 && m.lastByte != '\n' {
		m.send(Event{Action: "output", Output: "\n"})
	}
}

func (m *Merger) terminal(action string, elapsed time.Duration, failedBuild string) {
	secs := elapsed.Round(time.Millisecond).Seconds()
	m.send(Event{Action: action, Elapsed: &secs, FailedBuild: failedBuild})
	m.ended = true
}

// Cached emits the whole stream of a package whose result came from a
// result cache: events, already in go test's cached form (start, the
// tests' events, the "ok  \tpkg\t(cached)" line, the terminal event),
// go out as they are, timed by the clock and named for this package. It
// returns the package result, as Finish does. Nothing else may be fed to
// the package.
func (m *Merger) Cached(events []Event) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		panic("collector: Merger.Cached for " + m.pkg + " after it started")
	}
	m.started = true
	m.begun = m.clock()
	for _, e := range events {
		e.Package = m.pkg
		t := m.clock()
		e.Time = &t
		m.emitLocked(e)
		if e.IsPackageEnd() {
			m.result = e.Action
			break
		}
	}
	if m.result == "" {
		m.result = "pass"
		m.terminal("pass", 0, "")
	}
	m.ended = true
	return m.result
}

// NoTestFiles emits the whole stream of a package without test files:
// start, "?   \tpkg\t[no test files]", skip.
func (m *Merger) NoTestFiles() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startLocked()
	m.send(Event{Action: "output", Output: "?   \t" + m.pkg + "\t[no test files]\n"})
	m.result = "skip"
	m.terminal("skip", m.clock().Sub(m.begun), "")
}

// BuildFailed emits the stream of a package whose test binary did not
// build: output (as the go command printed it, "# pkg [pkg.test]" header
// included) as build-output events of failedBuild (e.g. "pkg [pkg.test]"),
// build-fail, start, "FAIL\tpkg [build failed]" and a fail event with
// FailedBuild.
func (m *Merger) BuildFailed(failedBuild, output string) {
	m.failBuild(failedBuild, output, "build failed")
}

// SetupFailed is BuildFailed for packages that could not be loaded (go
// test's "[setup failed]"); failedBuild names the package at fault.
func (m *Merger) SetupFailed(failedBuild, output string) {
	m.failBuild(failedBuild, output, "setup failed")
}

func (m *Merger) failBuild(failedBuild, output, what string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		panic("collector: build failure reported for " + m.pkg + " after its start")
	}
	for _, line := range strings.SplitAfter(output, "\n") {
		if line != "" {
			m.emit(Event{ImportPath: failedBuild, Action: "build-output", Output: line})
		}
	}
	m.emit(Event{ImportPath: failedBuild, Action: "build-fail"})
	m.startLocked()
	m.send(Event{Action: "output", Output: "FAIL\t" + m.pkg + " [" + what + "]\n"})
	m.failed = true
	m.result = "fail"
	m.terminal("fail", m.clock().Sub(m.begun), failedBuild)
}

// send stamps a package-level event and emits it.
func (m *Merger) send(e Event) {
	t := m.clock()
	e.Time = &t
	e.Package = m.pkg
	m.emitLocked(e)
}

func (m *Merger) emitLocked(e Event) {
	if e.Test != "" && !strings.Contains(e.Test, "/") {
		switch e.Action {
		case "pass", "fail", "skip":
			if m.lastOutcome == nil {
				m.lastOutcome = map[string]string{}
			}
			m.lastOutcome[e.Test] = e.Action
			delete(m.cleanExit, e.Test)
		}
	}
	if e.Action == "output" && e.Output != "" {
		m.lastByte = e.Output[len(e.Output)-1]
	}
	m.emit(e)
}
