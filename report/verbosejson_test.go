package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/godist/godist/collector"
)

// A test2json-mode stream of T with subtests T/a, T/a/b and T/c comes out
// as go test -json -v prints it: each subtest's header, indented by depth,
// and result held until T ends, under T's header; logs and run events
// where they were.
func TestVerboseJSONShape(t *testing.T) {
	in := []collector.Event{
		{Action: "start", Package: "p"},
		{Action: "run", Package: "p", Test: "T"},
		{Action: "output", Package: "p", Test: "T", Output: "=== RUN   T\n"},
		{Action: "run", Package: "p", Test: "T/a"},
		{Action: "run", Package: "p", Test: "T/a/b"},
		{Action: "output", Package: "p", Test: "T/a/b", Output: "    x_test.go:9: log\n"},
		{Action: "output", Package: "p", Test: "T/a/b", Output: "--- PASS: T/a/b (0.00s)\n"},
		{Action: "pass", Package: "p", Test: "T/a/b"},
		{Action: "output", Package: "p", Test: "T/a", Output: "--- PASS: T/a (0.00s)\n"},
		{Action: "pass", Package: "p", Test: "T/a"},
		{Action: "run", Package: "p", Test: "T/c"},
		{Action: "output", Package: "p", Test: "T/c", Output: "--- SKIP: T/c (0.00s)\n"},
		{Action: "skip", Package: "p", Test: "T/c"},
		{Action: "output", Package: "p", Test: "T", Output: "--- PASS: T (0.00s)\n"},
		{Action: "pass", Package: "p", Test: "T"},
		{Action: "run", Package: "p", Test: "U/x"}, // no parent running: top level
		{Action: "output", Package: "p", Test: "U/x", Output: "--- FAIL: U/x (0.00s)\n"},
		{Action: "fail", Package: "p", Test: "U/x"},
		{Action: "output", Package: "p", Output: "FAIL\n"},
		{Action: "fail", Package: "p"},
	}
	want := []string{
		"start  ",
		"run T ",
		"output T === RUN   T\n",
		"run T/a ",
		"run T/a/b ",
		"output T/a/b     x_test.go:9: log\n",
		"run T/c ",
		"output T --- PASS: T (0.00s)\n",
		"output T/a     --- PASS: T/a (0.00s)\n",
		"output T/a/b         --- PASS: T/a/b (0.00s)\n",
		"pass T/a/b ",
		"pass T/a ",
		"output T/c     --- SKIP: T/c (0.00s)\n",
		"skip T/c ",
		"pass T ",
		"run U/x ",
		"output U/x --- FAIL: U/x (0.00s)\n",
		"fail U/x ",
		"output  FAIL\n",
		"fail  ",
	}
	var buf bytes.Buffer
	r := newJSONOutput(&buf, true)
	for _, e := range in {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e collector.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, e.Action+" "+e.Test+" "+e.Output)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stream:\n%q\nwant:\n%q", got, want)
	}
}
