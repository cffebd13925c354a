package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"gotest.tools/gotestsum/testjson"

	"github.com/godist/godist/collector"
)

// FormatNames lists the gotestsum format names NewFormat accepts, sorted.
var FormatNames = []string{
	"dots",
	"dots-v2",
	"github-actions",
	"pkgname",
	"pkgname-and-test-fails",
	"standard-quiet",
	"standard-verbose",
	"testdox",
	"testname",
}

// UnknownFormatError is returned for a format name NewFormat does not know.
type UnknownFormatError struct {
	Name  string
	Valid []string
}

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("report: unknown format %q (valid: %s)", e.Name, strings.Join(e.Valid, ", "))
}

// FormatOptions configures NewFormat.
type FormatOptions struct {
	// HideEmptyPackages and Icons are testjson.FormatOptions' fields
	// (gotestsum's --format-hide-empty-pkg and --format-icons).
	HideEmptyPackages bool
	Icons             string
	// Summary, when non-zero, makes Close print gotestsum's end-of-run
	// summary (DONE line, failures with output, errors); use
	// testjson.SummarizeAll for gotestsum's default.
	Summary testjson.Summary
}

// CheckFormat returns nil if NewFormat accepts name, else an
// *UnknownFormatError listing the valid names: for validating a command
// line before anything runs.
func CheckFormat(name string) error {
	if !slices.Contains(FormatNames, name) {
		return &UnknownFormatError{Name: name, Valid: slices.Clone(FormatNames)}
	}
	return nil
}

// NewFormat returns a Renderer printing the stream in gotestsum's format
// name on stdout; lines gotestsum would show as stderr text go to stderr.
// An unknown name gives an *UnknownFormatError listing the valid names.
//
// testjson builds its Execution only inside ScanTestOutput, so the renderer
// encodes events into an io.Pipe that a goroutine, started here, scans;
// Close closes the pipe and waits for it.
func NewFormat(name string, stdout, stderr io.Writer, opts FormatOptions) (Renderer, error) {
	if err := CheckFormat(name); err != nil {
		return nil, err
	}
	return newFormat(name, stdout, stderr, opts), nil
}

// NewSummary returns a Renderer that prints nothing per event and, at
// Close, gotestsum's end-of-run summary selected by s (e.g.
// testjson.SummarizeAll): counts of tests, skipped, failures and errors,
// and the failed tests with their output. Put it after a text renderer
// with Tee. It starts a goroutine like NewFormat.
func NewSummary(stdout io.Writer, s testjson.Summary) Renderer {
	return newFormat("none", stdout, io.Discard, FormatOptions{Summary: s})
}

func newFormat(name string, stdout, stderr io.Writer, opts FormatOptions) *formatRenderer {
	f := testjson.NewEventFormatter(stdout, name, testjson.FormatOptions{
		HideEmptyPackages: opts.HideEmptyPackages,
		Icons:             opts.Icons,
	})
	if f == nil {
		panic("report: testjson does not know format " + name)
	}
	errw := stderr
	if strings.HasPrefix(name, "dots") {
		// As gotestsum: the summary shows these errors instead.
		errw = io.Discard
	}
	pr, pw := io.Pipe()
	r := &formatRenderer{
		pw:      pw,
		w:       bufio.NewWriter(pw),
		stdout:  stdout,
		summary: opts.Summary,
		done:    make(chan struct{}),
	}
	r.enc = json.NewEncoder(r.w)
	go r.scan(pr, &formatHandler{f: f, stderr: errw})
	return r
}

type formatRenderer struct {
	pw      *io.PipeWriter
	w       *bufio.Writer
	enc     *json.Encoder
	stdout  io.Writer
	summary testjson.Summary
	done    chan struct{}
	closed  bool
	after   func(*testjson.Execution) error // run by Close, if set
	err     error                           // sticky

	// Set by scan before done is closed.
	exec    *testjson.Execution
	scanErr error
}

// scan runs testjson over the pipe until it is closed.
func (r *formatRenderer) scan(pr *io.PipeReader, h *formatHandler) {
	defer close(r.done)
	exec, err := testjson.ScanTestOutput(testjson.ScanConfig{Stdout: pr, Handler: h})
	// Unblock writers if scanning stopped early; they see err.
	pr.CloseWithError(err)
	r.exec, r.scanErr = exec, err
}

func (r *formatRenderer) Event(e collector.Event) error {
	if r.err != nil {
		return r.err
	}
	if r.closed {
		return fmt.Errorf("report: format: event after Close")
	}
	if err := r.enc.Encode(&e); err != nil {
		r.err = fmt.Errorf("report: format: %w", err)
		return r.err
	}
	// Output events are buffered; any other event flushes the buffer into
	// the pipe, so what the formatter shows stays live (it prints on
	// run/pass/fail/skip) without one pipe write per output line.
	if e.Action != "output" {
		if err := r.w.Flush(); err != nil {
			r.err = fmt.Errorf("report: format: %w", err)
		}
	}
	return r.err
}

// Close flushes, ends the scan, waits for it and prints the summary if
// asked. It is idempotent.
func (r *formatRenderer) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("report: format: %w", err)
	}
	r.pw.Close()
	<-r.done
	if r.err == nil && r.scanErr != nil {
		r.err = fmt.Errorf("report: format: %w", r.scanErr)
	}
	if r.err == nil && r.summary != 0 && r.exec != nil {
		testjson.PrintSummary(r.stdout, r.exec, r.summary)
	}
	if r.err == nil && r.after != nil && r.exec != nil {
		r.err = r.after(r.exec)
	}
	return r.err
}

// formatHandler is the testjson.EventHandler of a formatRenderer.
type formatHandler struct {
	f      testjson.EventFormatter
	stderr io.Writer
}

func (h *formatHandler) Event(e testjson.TestEvent, exec *testjson.Execution) error {
	return h.f.Format(e, exec)
}

func (h *formatHandler) Err(text string) error {
	_, err := io.WriteString(h.stderr, text+"\n")
	return err
}
