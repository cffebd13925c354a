package collector

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// RawOutput rebuilds one package's test-binary output, as a
// [ProcessConverter] wants it, from the events `go test -json` printed for
// that package: feed it the package's events in order with Add, then Write
// Bytes to a converter and Finish it with ExitCode. test2json dropped two
// things the converter needs, which RawOutput puts back: the ^V marker
// before each framing line (it tells a framing line from the end of output
// that had no newline) and the === NAME lines that say whose output
// follows. The go command's own package lines (exit status, the ok/FAIL
// summary) are left out: the Merger writes its own summary.
type RawOutput struct {
	buf     bytes.Buffer
	last    string // the test the last output line belonged to
	status  int
	sawExit bool
	cached  bool
}

// Cached reports whether the go command served the package from its
// result cache (its summary line says "(cached)").
func (r *RawOutput) Cached() bool { return r.cached }

var exitStatusCode = regexp.MustCompile(`^exit status (-?\d+)\n?$`)

// Add takes the next event of the package.
func (r *RawOutput) Add(e Event) {
	if e.Output == "" {
		return
	}
	if e.Test == "" && (exitStatusCode.MatchString(e.Output) || strings.HasPrefix(e.Output, "ok  \t") || strings.HasPrefix(e.Output, "FAIL\t")) {
		if strings.HasPrefix(e.Output, "ok  \t") && strings.Contains(e.Output, "\t(cached)") {
			r.cached = true
		}
		if m := exitStatusCode.FindStringSubmatch(e.Output); m != nil {
			r.status, _ = strconv.Atoi(m[1])
			r.sawExit = true
		}
		return
	}
	if isFramingLine(e.Output) {
		r.buf.WriteByte(frameMarker)
	} else if e.Test != "" && e.Test != r.last {
		r.buf.WriteString(string(rune(frameMarker)) + "=== NAME  " + e.Test + "\n")
	}
	r.last = e.Test
	r.buf.WriteString(e.Output)
}

// Bytes is the output rebuilt so far.
func (r *RawOutput) Bytes() []byte { return r.buf.Bytes() }

// ExitCode is the test binary's exit code for the package's final action
// (pass, fail or skip): the status the go command printed, else 0 for a
// pass and [ExitUnknown] for a failure (go test -json does not always say).
func (r *RawOutput) ExitCode(action string) int {
	switch {
	case r.sawExit:
		return r.status
	case action == "fail":
		return ExitUnknown
	}
	return 0
}

// isFramingLine reports whether an output line is one that test binaries
// mark as framing: === and --- lines, and the final PASS or FAIL.
func isFramingLine(s string) bool {
	if s == "PASS\n" || s == "FAIL\n" || s == "=== NAME\n" {
		return true
	}
	b := []byte(strings.TrimLeft(s, " "))
	return hasAnyPrefix(b, framingPrefixes) || hasAnyPrefix(b, resultPrefixes)
}
