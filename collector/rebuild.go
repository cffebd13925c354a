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
	events  []Event // the package's events but the go command's own lines
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
	if e.Test == "" && e.Output != "" && (exitStatusCode.MatchString(e.Output) || strings.HasPrefix(e.Output, "ok  \t") || strings.HasPrefix(e.Output, "FAIL\t")) {
		if strings.HasPrefix(e.Output, "ok  \t") && strings.Contains(e.Output, "\t(cached)") {
			r.cached = true
		}
		if m := exitStatusCode.FindStringSubmatch(e.Output); m != nil {
			r.status, _ = strconv.Atoi(m[1])
			r.sawExit = true
		}
		return
	}
	r.events = append(r.events, e)
}

// Bytes is the output rebuilt so far. A line that looks like framing is
// marked as framing only where test2json's events show that it was: a
// test's own output may print "--- FAIL: TestOther", which go test took
// for plain output, and so must the converter.
func (r *RawOutput) Bytes() []byte {
	var buf bytes.Buffer
	last := "" // the test the last output line belonged to
	for i, e := range r.events {
		if e.Action != "output" || e.Output == "" {
			continue
		}
		if r.framing(i) {
			buf.WriteByte(frameMarker)
		} else if e.Test != "" && e.Test != last {
			buf.WriteString(string(rune(frameMarker)) + "=== NAME  " + e.Test + "\n")
		}
		last = e.Test
		buf.WriteString(e.Output)
	}
	return buf.Bytes()
}

// framing reports whether output event i was a framing line of the test
// binary, by the events test2json made of it (cmd/internal/test2json's
// handleInputLine): an update line ("=== RUN   X", CONT, ATTR, ...) comes
// right after its event, "=== PAUSE X" right before it; a result line
// ("--- FAIL: X (…)") comes before X's result event with nothing that
// looks like a result line between them; the final PASS or FAIL belongs to
// no test. test2json never shows a real "=== NAME" line.
func (r *RawOutput) framing(i int) bool {
	e := r.events[i]
	line := strings.TrimSuffix(e.Output, "\n")
	if !strings.HasSuffix(e.Output, "\n") {
		return false // a framing line is always whole
	}
	if line == "PASS" || line == "FAIL" || strings.HasPrefix(line, "FAIL: ") {
		return e.Test == ""
	}
	b := []byte(line)
	if hasAnyPrefix(b, framingPrefixes) {
		action, rest, _ := strings.Cut(strings.TrimPrefix(line, "=== "), " ")
		action = strings.ToLower(action)
		name, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		if action == "name" || name != e.Test {
			return false
		}
		if action == "pause" {
			return i+1 < len(r.events) && r.events[i+1].Action == "pause" && r.events[i+1].Test == e.Test
		}
		return i > 0 && r.events[i-1].Action == action && r.events[i-1].Test == e.Test
	}
	trimmed := strings.TrimLeft(line, " ")
	if !hasAnyPrefix([]byte(trimmed), resultPrefixes) {
		return false
	}
	action, name, _ := strings.Cut(strings.TrimPrefix(trimmed, "--- "), ": ")
	action = strings.ToLower(action)
	if k := strings.LastIndex(name, " ("); k >= 0 {
		name = name[:k]
	}
	if name != e.Test {
		return false
	}
	for _, next := range r.events[i+1:] {
		if next.Action == "output" {
			if hasAnyPrefix([]byte(strings.TrimLeft(next.Output, " ")), resultPrefixes) {
				return false
			}
			continue
		}
		return next.Test == e.Test && (next.Action == action || (action == "bench" && next.Action == "pass"))
	}
	return false
}

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
