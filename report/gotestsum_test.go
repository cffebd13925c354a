package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/gotestsum/testjson"

	"github.com/godist/godist/collector"
)

// buildGotestsum builds the real gotestsum (the version in go.mod) once.
func buildGotestsum(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gotestsum")
	if out, err := exec.Command("go", "build", "-o", bin, "gotest.tools/gotestsum").CombinedOutput(); err != nil {
		t.Fatalf("build gotestsum: %v\n%s", err, out)
	}
	return bin
}

// runGotestsum runs gotestsum over the recorded streams with
// --raw-command cat, so it reads exactly the events we render.
func runGotestsum(t *testing.T, bin string, args ...string) (stdout string) {
	t.Helper()
	var files []string
	for _, rc := range recordings {
		files = append(files, recordedPath(rc.name+".jsonl"))
	}
	args = append(args, "--raw-command", "--", "cat")
	cmd := exec.Command(bin, append(args, files...)...)
	cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=", "GOVERSION=go-fixture", "NO_COLOR=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("gotestsum: %v", err)
		}
	}
	return o.String()
}

func allRecorded(t *testing.T) []collector.Event {
	var evs []collector.Event
	for _, rc := range recordings {
		evs = append(evs, readRecorded(t, rc.name)...)
	}
	return evs
}

func renderAll(t *testing.T, r Renderer, evs []collector.Event) {
	t.Helper()
	for _, e := range evs {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// doneLine is the summary gotestsum prints even with --hide-summary=all.
var doneLine = regexp.MustCompile(`(?s)\n*DONE \d+ tests.*$`)

// TestFormatsMatchGotestsum renders the recorded streams in every format
// and compares with the real gotestsum reading the same JSON.
func TestFormatsMatchGotestsum(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotestsum")
	}
	t.Setenv("GITHUB_ACTIONS", "")
	bin := buildGotestsum(t)
	evs := allRecorded(t)
	for _, name := range FormatNames {
		t.Run(name, func(t *testing.T) {
			want := runGotestsum(t, bin, "--format", name, "--hide-summary=all")
			want = doneLine.ReplaceAllString(want, "")
			var out bytes.Buffer
			r, err := NewFormat(name, &out, &bytes.Buffer{}, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			renderAll(t, r, evs)
			got := strings.TrimRight(out.String(), "\n")
			want = strings.TrimRight(want, "\n")
			if normalize(got) != normalize(want) {
				t.Errorf("differs from gotestsum:\n%s", lineDiff(normalize(want), normalize(got)))
			}
		})
	}
	t.Run("summary", func(t *testing.T) {
		want := runGotestsum(t, bin, "--format", "pkgname")
		var out bytes.Buffer
		r, err := NewFormat("pkgname", &out, &bytes.Buffer{}, FormatOptions{Summary: testjson.SummarizeAll})
		if err != nil {
			t.Fatal(err)
		}
		renderAll(t, r, evs)
		if normalize(out.String()) != normalize(want) {
			t.Errorf("differs from gotestsum:\n%s", lineDiff(normalize(want), normalize(out.String())))
		}
	})
	t.Run("junit", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "junit.xml")
		runGotestsum(t, bin, "--format", "none", "--junitfile", path, "--junitfile-testcase-classname", "relative")
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r, err := NewJUnit(&out, JUnitOptions{GoVersion: "go-fixture", CaseClassname: "relative"})
		if err != nil {
			t.Fatal(err)
		}
		renderAll(t, r, evs)
		if got, want := normalizeJUnit(out.String()), normalizeJUnit(string(want)); got != want {
			t.Errorf("differs from gotestsum:\n%s", lineDiff(want, got))
		}
	})
}

// normalizeJUnit blanks the run's wall time, the only attribute not taken
// from the events.
func normalizeJUnit(s string) string {
	return regexp.MustCompile(`(<testsuites [^>]*time=")[^"]*"`).ReplaceAllString(s, `${1}T"`)
}

func TestJUnitOptions(t *testing.T) {
	if _, err := NewJUnit(&bytes.Buffer{}, JUnitOptions{SuiteName: "weird"}); err == nil {
		t.Error("unknown field format accepted")
	}
	var out bytes.Buffer
	r, err := NewJUnit(&out, JUnitOptions{GoVersion: "gox", SuiteName: "short", HideEmptyPackages: true, HideSkippedTests: true, ProjectName: "godist"})
	if err != nil {
		t.Fatal(err)
	}
	renderAll(t, r, readRecorded(t, "basic"))
	s := out.String()
	for _, want := range []string{`<testsuites name="godist"`, `name="fail"`, `<property name="go.version" value="gox">`, `<failure message="Failed"`, `<property name="owner" value="report">`} {
		if !strings.Contains(s, want) {
			t.Errorf("junit lacks %q", want)
		}
	}
	for _, bad := range []string{"<skipped", `name="nottests"`} {
		if strings.Contains(s, bad) {
			t.Errorf("junit has %q", bad)
		}
	}
}
