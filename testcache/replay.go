package testcache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// event is test2json's event, fields in its order, so that re-encoding a
// decoded event gives test2json's bytes.
type event struct {
	Time        *time.Time `json:",omitempty"`
	Action      string
	Package     string   `json:",omitempty"`
	Test        string   `json:",omitempty"`
	Elapsed     *float64 `json:",omitempty"`
	Output      *string  `json:",omitempty"`
	FailedBuild string   `json:",omitempty"`
	Key         string   `json:",omitempty"`
	Value       string   `json:",omitempty"`
	Path        string   `json:",omitempty"`
}

// Replay turns a cached event stream into what go test -json prints for a
// cached package: the same events, timed now; in the package's summary
// output line the elapsed time replaced by "(cached)" (`ok  \tpkg\t
// (cached)\tcoverage: ...`), the way tryCacheWithID rewrites it; and the
// package's pass event with Elapsed 0, as test2json reports a summary
// line without a time. Tests keep their recorded elapsed times. The text
// and -v renderings of a cached package are rendered from these events,
// as for a run.
func Replay(events []byte, now time.Time) ([]byte, error) {
	var evs []event
	summary := -1 // the last package-level `ok` line: the one go rewrites
	for line := range bytes.Lines(events) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 {
			continue
		}
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("testcache: replay: %w in %q", err, line)
		}
		if ev.Test == "" && ev.Action == "output" && ev.Output != nil && strings.HasPrefix(*ev.Output, "ok  \t") {
			summary = len(evs)
		}
		evs = append(evs, ev)
	}
	var out bytes.Buffer
	out.Grow(len(events))
	zero := 0.0
	for i, ev := range evs {
		ev.Time = &now
		if i == summary {
			s := cachedSummary(*ev.Output)
			ev.Output = &s
		}
		if ev.Test == "" && ev.Action == "pass" {
			ev.Elapsed = &zero
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("testcache: replay: %w", err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// cachedSummary rewrites `ok  \tpkg\t0.123s...` to `ok  \tpkg\t(cached)...`
// and leaves any other line alone.
func cachedSummary(s string) string {
	const ok = "ok  \t"
	if len(s) < len(ok) || s[:len(ok)] != ok {
		return s
	}
	j := bytes.IndexByte([]byte(s[len(ok):]), '\t')
	if j < 0 {
		return s
	}
	j += len(ok) + 1
	k := j
	for k < len(s) && ('0' <= s[k] && s[k] <= '9' || s[k] == '.' || s[k] == 's') {
		k++
	}
	return s[:j] + "(cached)" + s[k:]
}

// CoverageOf returns the coverage part of a package's summary line in an
// event stream (`coverage: 80.0% of statements`, or `coverage: [no
// statements]`), "" if the run had no coverage: what Entry.Coverage holds.
func CoverageOf(events []byte) string {
	var found string
	for line := range bytes.Lines(events) {
		if !bytes.Contains(line, []byte("coverage: ")) {
			continue
		}
		var ev event
		if json.Unmarshal(line, &ev) != nil || ev.Test != "" || ev.Output == nil || !strings.HasPrefix(*ev.Output, "ok  \t") {
			continue
		}
		if _, cov, ok := bytes.Cut([]byte(*ev.Output), []byte("\tcoverage: ")); ok {
			found = "coverage: " + string(bytes.TrimSuffix(cov, []byte("\n")))
		}
	}
	return found
}
