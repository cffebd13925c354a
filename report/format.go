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

// FormatOptions configures NewFormatOptions.
type FormatOptions struct {
	// HideEmptyPackages and Icons are gotestsum's --hide-summary-less
	// formatting options of the same names (see testjson.FormatOptions).
	HideEmptyPackages bool
	Icons             string
	// Summary, when non-zero, makes Close print gotestsum's end-of-run
	// summary (DONE line, failures with output, errors); use
	// testjson.SummarizeAll for gotestsum's default.
	Summary testjson.Summary
}

// NewFormat returns a Renderer printing the stream in gotestsum's format
// name on stdout; lines gotestsum would show as stderr text go to stderr.
// An unknown name gives an *UnknownFormatError listing the valid names.
func NewFormat(name string, stdout, stderr io.Writer) (Renderer, error) {
	return NewFormatOptions(name, stdout, stderr, FormatOptions{})
}

// NewFormatOptions is NewFormat with options.
//
// testjson builds its Execution only inside ScanTestOutput, so the renderer
// encodes events into an io.Pipe that a goroutine, started here, scans;
// Close closes the pipe and waits for it.
func NewFormatOptions(name string, stdout, stderr io.Writer, opts FormatOptions) (Renderer, error) {
	if !slices.Contains(FormatNames, name) {
		return nil, &UnknownFormatError{Name: name, Valid: slices.Clone(FormatNames)}
	}
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
	return r, nil
}

type formatRenderer struct {
	pw      *io.PipeWriter
	w       *bufio.Writer
	enc     *json.Encoder
	stdout  io.Writer
	summary testjson.Summary
	done    chan struct{}
	closed  bool

	// Set by scan before done is closed.
	exec    *testjson.Execution
	scanErr error
	err     error
}

// scan runs testjson over the pipe until it is closed.
func (r *formatRenderer) scan(pr *io.PipeReader, h *formatHandler) {
	defer close(r.done)
	exec, err := testjson.ScanTestOutput(testjson.ScanConfig{Stdout: pr, Handler: h})
	if err != nil {
		err = fmt.Errorf("report: format: %w", err)
	}
	// Unblock writers if scanning stopped early.
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
	// One event at a time: the formatter sees it before Event returns
	// only as far as the pipe allows; flushing per terminal event keeps
	// live output live without a write per output line.
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
	if r.err == nil {
		r.err = r.scanErr
	}
	if r.err == nil && r.summary != 0 && r.exec != nil {
		testjson.PrintSummary(r.stdout, r.exec, r.summary)
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
