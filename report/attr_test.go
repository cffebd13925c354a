package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/godist/godist/collector"
)

// withWorkers adds what godist's converter adds to each top-level test of
// a real go test -json stream: after its run event, an attr event naming
// the worker and the "=== ATTR" line go test -v prints for it.
func withWorkers(evs []collector.Event) []collector.Event {
	var out []collector.Event
	n := 0
	for _, e := range evs {
		out = append(out, e)
		if e.Action == "run" && e.Test != "" && !strings.Contains(e.Test, "/") {
			w := fmt.Sprintf("gw%d", n%3)
			n++
			attr := e
			attr.Action, attr.Key, attr.Value = "attr", collector.WorkerAttr, w
			line := e
			line.Action, line.Output = "output", "=== ATTR  "+e.Test+" "+collector.WorkerAttr+" "+w+"\n"
			out = append(out, attr, line)
		}
	}
	return out
}

// TestWorkerLinesLeftOut: with worker attribution in the stream, the
// formats print what the real gotestsum prints for the same run without
// it (no github-actions group holding only an ATTR line, no ATTR line in
// the summary), and JUnit failure bodies hold no ATTR line while the test
// cases keep the worker as a property.
func TestWorkerLinesLeftOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotestsum")
	}
	t.Setenv("GITHUB_ACTIONS", "")
	bin := buildGotestsum(t)
	evs := withWorkers(allRecorded(t))
	for _, name := range []string{"github-actions", "testname", "pkgname-and-test-fails"} {
		t.Run(name, func(t *testing.T) {
			want := runGotestsum(t, bin, "--format", name)
			var out bytes.Buffer
			o, err := Open(Outputs{Format: name}, &out, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			renderAll(t, o, evs)
			if strings.Contains(out.String(), collector.WorkerAttr) {
				t.Errorf("%s output names godist.worker", name)
			}
			if normalize(out.String()) != normalize(want) {
				t.Errorf("differs from gotestsum on the stream without attribution:\n%s", lineDiff(normalize(want), normalize(out.String())))
			}
		})
	}
	t.Run("junit", func(t *testing.T) {
		t.Setenv("GOVERSION", "go-fixture")
		path := filepath.Join(t.TempDir(), "junit.xml")
		o, err := Open(Outputs{Format: "dots", JUnitFile: path}, &bytes.Buffer{}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		renderAll(t, o, evs)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, "=== ATTR  Test") && regexp.MustCompile(`=== ATTR  \S+ godist\.worker`).MatchString(s) {
			t.Errorf("junit failure bodies hold worker ATTR lines")
		}
		if !strings.Contains(s, `<property name="godist.worker" value="gw`) {
			t.Errorf("junit test cases lost the worker property")
		}
		if !strings.Contains(s, "<failure") {
			t.Fatal("no failures in the recorded run")
		}
	})
	t.Run("summary", func(t *testing.T) {
		var out bytes.Buffer
		o, err := Open(Outputs{Summary: true}, &out, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		renderAll(t, o, evs)
		if strings.Contains(out.String(), collector.WorkerAttr) {
			t.Errorf("summary names godist.worker:\n%s", out.String())
		}
	})
	t.Run("verbose text keeps it", func(t *testing.T) {
		var out bytes.Buffer
		o, err := Open(Outputs{Verbose: true}, &out, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		renderAll(t, o, evs)
		if !strings.Contains(out.String(), "=== ATTR  TestPass godist.worker gw") {
			t.Errorf("-v text lost the worker line")
		}
	})
}
