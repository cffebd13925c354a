package report

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/godist/godist/collector"
)

// How text output is rebuilt.
//
// godist always runs test binaries with -test.v=test2json, so the events
// carry chatty (-v) output even when the user did not ask for -v. The
// testing package prints differently in its three modes, and this file
// replays what it would have done, from the order of the events:
//
//   - Every test has an output buffer (testing's common.output). A test's
//     log lines (t.Log & co, which test2json reports as lines indented by
//     four spaces) go to the buffer in non-chatty mode and straight to
//     stdout in -v mode; lines the test wrote to os.Stdout itself (not
//     indented: fmt.Println, panics, an example's got:/want:) always go
//     straight to stdout.
//   - When a test ends, its `--- FAIL: name (0.00s)` header plus its buffer
//     is flushed (flushToParent): a top-level test's to stdout, a
//     subtest's, indented by four spaces, into its parent's buffer, to
//     appear under the parent's header later. Non-chatty mode flushes only
//     failures and drops the buffer of passing and skipped tests; -v
//     flushes all. In test2json mode every header goes straight to stdout,
//     unindented, which is why -v text is not the events' output verbatim.
//   - In -v mode a log line from a test other than the last one named on
//     stdout is preceded by `=== NAME  test` (chattyPrinter.Printf); `===
//     RUN/PAUSE/CONT` and top-level headers name their test.
//   - cmd/go then shows only the `ok` line of a passing package unless -v,
//     prints a failed package's output whole, and ends with a bare `FAIL`
//     line when anything failed in package-list mode. (In local directory
//     mode it shows all output and prints no final FAIL.)

// TextOptions configures NewTextOptions.
type TextOptions struct {
	// Verbose selects -v output.
	Verbose bool
	// LocalDir selects go test's local directory mode (`go test` with no
	// package arguments): a passing package's output is shown whole, not
	// just its `ok` line, and there is no final bare `FAIL` line. (go test
	// then also prints `exit status N` for a failed package; that line
	// must come with the stream.)
	LocalDir bool
}

// NewText returns a Renderer printing what `go test` (verbose: `go test
// -v`) prints on stdout, and build errors on stderr, in package-list mode.
func NewText(stdout, stderr io.Writer, verbose bool) Renderer {
	return NewTextOptions(stdout, stderr, TextOptions{Verbose: verbose})
}

// NewTextOptions is NewText with all options.
//
// Events of different packages may interleave; each package's text is
// printed as a block when its terminal event arrives (-v: as it comes,
// which interleaves lines when packages do).
func NewTextOptions(stdout, stderr io.Writer, opts TextOptions) Renderer {
	return &textRenderer{
		stdout: stdout,
		stderr: stderr,
		opts:   opts,
		pkgs:   make(map[string]*textPkg),
	}
}

type textRenderer struct {
	stdout, stderr io.Writer
	opts           TextOptions
	pkgs           map[string]*textPkg
	status         Status
	err            error
}

// textPkg is the state of one package's stream.
type textPkg struct {
	out      spillBuffer // rendered text not yet written (non-verbose)
	summary  []string    // cmd/go's own summary lines (`ok  \t…`, `?   \t…`)
	tests    map[string]*textTest
	lastName string // chattyPrinter.lastName (-v)
	partial  lineKind
}

// textTest mirrors one *testing.T.
type textTest struct {
	name    string
	parent  *textTest // nil for a top-level test
	buf     []byte    // testing's common.output
	done    bool      // header seen or terminal event handled
	header  string    // pieces of a header line split by test2json
	partial lineKind  // kind of the unterminated line last written, if any
}

type lineKind int

const (
	lineNone   lineKind = iota // no pending partial line
	lineFrame                  // === RUN / PAUSE / CONT / NAME / ATTR / ARTIFACTS
	lineHeader                 // --- PASS / FAIL / SKIP
	lineLog                    // t.Log output, indented
	lineDirect                 // written to stdout by the test itself
)

const indent = "    "

func (r *textRenderer) Event(e collector.Event) error {
	if r.err != nil {
		return r.err
	}
	_ = r.status.Event(e)
	switch e.Action {
	case "build-output":
		r.write(r.stderr, e.Output)
		return r.err
	case "build-fail":
		return r.err
	}
	p := r.pkg(e.Package)
	if e.Test == "" {
		r.pkgEvent(p, e)
		return r.err
	}
	if e.Action == "run" {
		// A fresh *testing.T: with -count=N a name runs N times.
		delete(p.tests, e.Test)
	}
	t := p.test(e.Test)
	switch e.Action {
	case "output", "bench":
		r.testOutput(p, t, e.Output)
	case "pass", "skip", "fail":
		if t.header != "" {
			r.flushHeader(p, t)
		}
		if !t.done && e.Action == "fail" {
			// A failure with no header line: the collector's verdict
			// for a test whose binary died. Show it as testing would.
			r.flushTest(p, t, "FAIL", fmt.Sprintf("--- FAIL: %s (%s)\n", t.name, fmtElapsed(e.Elapsed)))
		}
		t.done = true
	}
	return r.err
}

func fmtElapsed(sec *float64) string {
	if sec == nil {
		return "0.00s"
	}
	return fmt.Sprintf("%.2fs", *sec)
}

func (r *textRenderer) pkg(name string) *textPkg {
	p := r.pkgs[name]
	if p == nil {
		p = &textPkg{tests: make(map[string]*textTest)}
		r.pkgs[name] = p
	}
	return p
}

// test returns the state of the named test, creating it with its parent:
// the longest-named unfinished test whose name is a /-prefix of name. A
// subtest named "a/b" is one level below its parent, not two.
func (p *textPkg) test(name string) *textTest {
	if t := p.tests[name]; t != nil {
		return t
	}
	t := &textTest{name: name}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '/' {
			continue
		}
		if par := p.tests[name[:i]]; par != nil && !par.done {
			t.parent = par
			break
		}
	}
	p.tests[name] = t
	return t
}

// pkgEvent handles an event with no Test: package output and the
// package's terminal event.
func (r *textRenderer) pkgEvent(p *textPkg, e collector.Event) {
	switch e.Action {
	case "output":
		if p.partial == lineNone && isSummaryLine(e.Output) {
			p.summary = append(p.summary, e.Output)
		}
		p.partial = lineNone
		if !strings.HasSuffix(e.Output, "\n") {
			p.partial = lineDirect
		}
		r.print(p, e.Output)
	case "pass", "skip", "fail":
		if !r.opts.Verbose {
			if e.Action == "fail" || r.opts.LocalDir {
				r.writeOut(p)
			} else {
				p.out.Discard()
				// cmd/go drops a passing package's output unless -v.
				for _, s := range p.summary {
					r.write(r.stdout, s)
				}
			}
		}
		delete(r.pkgs, e.Package)
	}
}

// isSummaryLine reports whether s is a line cmd/go prints about a passing
// or test-less package.
func isSummaryLine(s string) bool {
	return strings.HasPrefix(s, "ok  \t") || strings.HasPrefix(s, "?   \t")
}

// testOutput handles one output event of test t. test2json emits a line
// longer than 1 KiB in pieces, and a line cut short by a framing line as
// an event without "\n": a piece that does not start a framing or header
// line continues the previous line and is treated like it.
func (r *textRenderer) testOutput(p *textPkg, t *textTest, s string) {
	kind, cont := t.partial, true
	if kind == lineNone || isFrame(s) || isHeader(s) {
		kind, cont = classify(s), false
	}
	if kind == lineLog && !cont {
		// An indented header naming this very test: a converter that
		// mimics text-mode nesting (godist's collector does for tests
		// whose binary died). test2json's own headers are not indented.
		if h := strings.TrimLeft(s, " "); isHeader(h) && headerNames(h, t.name) {
			kind, s = lineHeader, h
		}
	}
	if !cont && t.header != "" {
		r.flushHeader(p, t) // a header line cut short
	}
	t.partial = lineNone
	if !strings.HasSuffix(s, "\n") {
		t.partial = kind
	}
	switch kind {
	case lineFrame:
		if r.opts.Verbose {
			r.print(p, s)
			p.lastName = t.name // chattyPrinter.Updatef
		}
	case lineHeader:
		t.header += s
		if t.partial == lineNone {
			r.flushHeader(p, t)
		}
	case lineLog:
		switch {
		case !r.opts.Verbose:
			t.buf = append(t.buf, s...)
		case t.done:
			// Logged after the test finished: testing sends it to the
			// nearest unfinished ancestor's buffer; keep it with the test.
			t.buf = append(t.buf, s...)
		default:
			if !cont && p.lastName != t.name && p.lastName != "" {
				r.print(p, "=== NAME  "+t.name+"\n")
			}
			p.lastName = t.name
			r.print(p, s)
		}
	default:
		r.print(p, s)
	}
}

// flushHeader flushes t with its pending header line.
func (r *textRenderer) flushHeader(p *textPkg, t *textTest) {
	h := t.header
	t.header = ""
	res := strings.TrimPrefix(h, "--- ")
	res, _, _ = strings.Cut(res, ":")
	r.flushTest(p, t, res, h)
}

// flushTest does t.report(): it writes header and t's buffer to stdout
// for a top-level test, or indented into the parent's buffer for a
// subtest. Without -v only failures are flushed.
func (r *textRenderer) flushTest(p *textPkg, t *textTest, result, header string) {
	if t.done {
		return
	}
	t.done = true
	if !r.opts.Verbose && result != "FAIL" {
		t.buf = nil
		return
	}
	block := append([]byte(header), t.buf...)
	t.buf = nil
	if t.parent == nil {
		r.print(p, string(block))
		p.lastName = t.name
		return
	}
	t.parent.buf = appendIndented(t.parent.buf, block)
}

// appendIndented appends b to dst with every line indented, like
// testing's indenter.
func appendIndented(dst, b []byte) []byte {
	for len(b) > 0 {
		end := bytes.IndexByte(b, '\n') + 1
		if end == 0 {
			end = len(b)
		}
		dst = append(dst, indent...)
		dst = append(dst, b[:end]...)
		b = b[end:]
	}
	return dst
}

func isFrame(s string) bool {
	for _, f := range []string{"=== RUN   ", "=== PAUSE ", "=== CONT  ", "=== NAME  ", "=== ATTR  ", "=== ARTIFACTS "} {
		if strings.HasPrefix(s, f) {
			return true
		}
	}
	return false
}

func isHeader(s string) bool {
	for _, f := range []string{"--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if strings.HasPrefix(s, f) {
			return true
		}
	}
	return false
}

// headerNames reports whether header line h is about test name.
func headerNames(h, name string) bool {
	_, rest, _ := strings.Cut(h, ": ")
	return strings.HasPrefix(rest, name+" (")
}

func classify(s string) lineKind {
	switch {
	case isFrame(s):
		return lineFrame
	case isHeader(s):
		return lineHeader
	case strings.HasPrefix(s, indent):
		return lineLog
	}
	return lineDirect
}

// print emits package text: at once with -v, else into the package block.
func (r *textRenderer) print(p *textPkg, s string) {
	if r.opts.Verbose {
		r.write(r.stdout, s)
		return
	}
	p.out.WriteString(s)
}

// writeOut prints package p's block of text.
func (r *textRenderer) writeOut(p *textPkg) {
	if r.err != nil {
		p.out.Discard()
		return
	}
	if _, err := p.out.WriteTo(r.stdout); err != nil {
		r.err = fmt.Errorf("report: write text: %w", err)
	}
}

func (r *textRenderer) write(w io.Writer, s string) {
	if r.err != nil || s == "" {
		return
	}
	if _, err := io.WriteString(w, s); err != nil {
		r.err = fmt.Errorf("report: write text: %w", err)
	}
}

// Close prints the packages whose terminal event never came (sorted by
// import path), then go test's final bare `FAIL` line if anything
// failed.
func (r *textRenderer) Close() error {
	if r.err != nil {
		return r.err
	}
	unfinished := len(r.pkgs) > 0
	for _, name := range slices.Sorted(maps.Keys(r.pkgs)) {
		if !r.opts.Verbose {
			r.writeOut(r.pkgs[name])
		}
		delete(r.pkgs, name)
	}
	// Packages decide: with --rerun-fails a failed test can pass later.
	// A package that never ended counts by its tests.
	if (len(r.status.FailedPackages) > 0 || unfinished && r.status.Failed()) && !r.opts.LocalDir {
		r.write(r.stdout, "FAIL\n")
	}
	return r.err
}
