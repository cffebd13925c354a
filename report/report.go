package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/godist/godist/collector"
)

// Renderer consumes the merged event stream.
type Renderer interface {
	// Event handles one event. An error is sticky: later calls return it too.
	Event(e collector.Event) error
	// Close flushes what is pending. It is called once, after the last event.
	Close() error
}

// jsonRenderer writes one event per line like `go test -json`.
type jsonRenderer struct {
	enc *json.Encoder
	err error
}

// NewJSON returns a Renderer writing each event as one JSON line to w, byte
// for byte as `go test -json` would. Both test2json (json.Marshal) and
// cmd/go's build events (json.Encoder) escape <, > and & as \u003c etc.,
// so the encoder keeps its default HTML escaping.
func NewJSON(w io.Writer) Renderer {
	return &jsonRenderer{enc: json.NewEncoder(w)}
}

func (r *jsonRenderer) Event(e collector.Event) error {
	if r.err != nil {
		return r.err
	}
	if err := r.enc.Encode(&e); err != nil {
		r.err = fmt.Errorf("report: write json: %w", err)
	}
	return r.err
}

func (r *jsonRenderer) Close() error { return r.err }

// Tee returns a Renderer passing every event to each of rs in turn. Event
// and Close return the first error; Close closes all of rs.
func Tee(rs ...Renderer) Renderer { return tee(rs) }

type tee []Renderer

func (t tee) Event(e collector.Event) error {
	for _, r := range t {
		if err := r.Event(e); err != nil {
			return err
		}
	}
	return nil
}

func (t tee) Close() error {
	var errs []error
	for _, r := range t {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// Status is a Renderer that only records whether anything failed.
type Status struct {
	failed bool
	// FailedPackages lists packages with a fail event (build failures
	// included), in the order their terminal events arrived.
	FailedPackages []string

	testFailed map[string]bool // packages with a failed test
	ended      map[string]bool // packages with a terminal event
}

// Event records failures: a package `fail` or a `build-fail`. As for go
// test, a package's result is its binary's: a test's fail event in a
// package that then passes (a test that runs tests of its own, failing on
// purpose) fails nothing; in a package that never ended it does.
func (s *Status) Event(e collector.Event) error {
	switch {
	case e.Action == "build-fail":
		s.failed = true
	case e.Test != "":
		if e.Action == "fail" {
			if s.testFailed == nil {
				s.testFailed = map[string]bool{}
			}
			s.testFailed[e.Package] = true
		}
	case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
		if s.ended == nil {
			s.ended = map[string]bool{}
		}
		s.ended[e.Package] = true
		if e.Action == "fail" {
			s.failed = true
			s.FailedPackages = append(s.FailedPackages, e.Package)
		}
	}
	return nil
}

// Close does nothing.
func (s *Status) Close() error { return nil }

// Failed reports whether any package or build failed, or a test of a
// package that never ended.
func (s *Status) Failed() bool {
	if s.failed {
		return true
	}
	for pkg := range s.testFailed {
		if !s.ended[pkg] {
			return true
		}
	}
	return false
}

// UsageError marks a command-line mistake; [ExitCode] maps it to 2. Its
// message is Err's, unchanged.
type UsageError struct {
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Exit codes, as go test uses them.
const (
	ExitOK     = 0 // everything passed (or was skipped)
	ExitFailed = 1 // a test, package or build failed, or the run broke
	ExitUsage  = 2 // bad command line
)

// ExitCode returns go test's exit status for a run that ended with err
// (nil when it ran to completion) and whose events went through st (may be
// nil): ExitUsage for a *UsageError, ExitFailed for any other error or any
// failure seen by st, else ExitOK.
func ExitCode(err error, st *Status) int {
	var ue *UsageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case err != nil:
		return ExitFailed
	case st != nil && st.Failed():
		return ExitFailed
	}
	return ExitOK
}
