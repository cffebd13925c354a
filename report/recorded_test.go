package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/gotestsum/testjson"

	"github.com/godist/godist/collector"
)

// -record reruns go test on the fixture modules and rewrites
// testdata/recorded; -update rewrites the format golden files from it.
var (
	record = flag.Bool("record", false, "record testdata/recorded from real go test runs of the fixtures")
	update = flag.Bool("update", false, "rewrite testdata/format/*.golden")
)

// recordings are the fixture runs kept under testdata/recorded: for each,
// NAME.jsonl (go test -json, regrouped by package), NAME.txt and
// NAME-v.txt (stdout of go test and go test -v), NAME.stderr (stderr of go
// test), all from runs whose rendering matched at record time.
var recordings = []struct {
	name, module string
	pkgs         []string
}{
	{"parallel", "basic", []string{"./parallel"}},
	{"basic", "basic", []string{"./pass", "./fail", "./skip", "./mainpkg", "./examples", "./fuzz", "./files", "./nottests", "./buildfail", "./vetfail", "./samename/...", "./many", "./names"}},
	{"crash", "crash", []string{"./panics", "./exits", "./exit0", "./flaky", "./mainfail"}},
}

func recordedPath(name string) string { return filepath.Join("testdata", "recorded", name) }

func TestRecord(t *testing.T) {
	if !*record {
		t.Skip("use -record to re-record the fixture runs")
	}
	for _, rc := range recordings {
		var fr fixtureRuns
		for try := 0; ; try++ {
			fr = runFixture(t, rc.module, rc.pkgs)
			diffs := compareFixture(t, fr)
			if len(diffs) == 0 {
				break
			}
			if try == 20 {
				t.Fatalf("%s: no matching runs: %s", rc.name, diffs)
			}
		}
		var js bytes.Buffer
		r := NewJSON(&js)
		for _, e := range orderByPackage(parseEvents(t, fr.json.stdout)) {
			r.Event(e)
		}
		files := map[string][]byte{
			rc.name + ".jsonl":  js.Bytes(),
			rc.name + ".txt":    fr.text.stdout,
			rc.name + "-v.txt":  fr.verbose.stdout,
			rc.name + ".stderr": fr.text.stderr,
		}
		os.MkdirAll(recordedPath(""), 0o755)
		for n, b := range files {
			if err := os.WriteFile(recordedPath(n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func readRecorded(t *testing.T, name string) []collector.Event {
	t.Helper()
	b, err := os.ReadFile(recordedPath(name + ".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return parseEvents(t, b)
}

// TestTextRecorded replays the recorded streams (fast, also in -short) and
// expects the recorded go test text, in chunks of odd sizes delivered as
// separate output events to mimic test2json's splitting.
func TestTextRecorded(t *testing.T) {
	for _, rc := range recordings {
		evs := readRecorded(t, rc.name)
		for _, c := range []struct {
			suffix  string
			verbose bool
			split   bool
		}{
			{".txt", false, false},
			{"-v.txt", true, false},
			{".txt", false, true},
			{"-v.txt", true, true},
		} {
			name := rc.name + c.suffix
			if c.split {
				name += "/split"
			}
			t.Run(name, func(t *testing.T) {
				want, err := os.ReadFile(recordedPath(rc.name + c.suffix))
				if err != nil {
					t.Fatal(err)
				}
				wantErr, err := os.ReadFile(recordedPath(rc.name + ".stderr"))
				if err != nil {
					t.Fatal(err)
				}
				in := evs
				if c.split {
					in = splitOutputs(evs)
				}
				out, errOut := renderText(t, in, c.verbose)
				if got, want := normalize(out), normalize(string(want)); got != want {
					t.Errorf("stdout:\n%s", lineDiff(want, got))
				}
				if got, want := normalize(errOut), normalize(string(wantErr)); got != want {
					t.Errorf("stderr:\n%s", lineDiff(want, got))
				}
			})
		}
	}
}

// splitOutputs cuts every output event of a test longer than 20 bytes
// into three pieces, the first 12 bytes long, the way test2json splits
// lines over 1 KiB: the renderer must treat the continuation pieces like
// the line they belong to.
func splitOutputs(evs []collector.Event) []collector.Event {
	var out []collector.Event
	for _, e := range evs {
		if e.Action != "output" || e.Test == "" || len(e.Output) <= 20 {
			out = append(out, e)
			continue
		}
		s := e.Output
		for _, n := range []int{12, 3} {
			p := e
			p.Output = s[:n]
			out = append(out, p)
			s = s[n:]
		}
		p := e
		p.Output = s
		out = append(out, p)
	}
	return out
}

// TestFormatGolden renders the recorded streams in every gotestsum format
// and compares with testdata/format/NAME.golden (stdout, then a line
// "--- stderr ---" and stderr).
func TestFormatGolden(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "") // testname would turn into github-actions
	var evs []collector.Event
	for _, rc := range recordings {
		evs = append(evs, readRecorded(t, rc.name)...)
	}
	type formatCase struct {
		golden, name string
		opts         FormatOptions
	}
	var cases []formatCase
	for _, name := range FormatNames {
		cases = append(cases, formatCase{name, name, FormatOptions{}})
	}
	cases = append(cases,
		formatCase{"pkgname-summary", "pkgname", FormatOptions{Summary: testjson.SummarizeAll}},
		formatCase{"testname-hide-empty", "testname", FormatOptions{HideEmptyPackages: true, Icons: "text"}},
	)
	cases = append(cases, formatCase{"summary", "", FormatOptions{}}, formatCase{"junit", "", FormatOptions{}})
	for _, c := range cases {
		name := c.golden
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			var r Renderer
			switch c.golden {
			case "summary":
				r = NewSummary(&out, testjson.SummarizeAll)
			case "junit":
				var err error
				r, err = NewJUnit(&out, JUnitOptions{GoVersion: "go-fixture"})
				if err != nil {
					t.Fatal(err)
				}
			default:
				var err error
				r, err = NewFormat(c.name, &out, &errOut, c.opts)
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, e := range evs {
				if err := r.Event(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			got := normalizeJUnit(out.String()) + "--- stderr ---\n" + errOut.String()
			path := filepath.Join("testdata", "format", name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if normalize(got) != normalize(string(want)) {
				t.Errorf("%s differs:\n%s", path, lineDiff(normalize(string(want)), normalize(got)))
			}
		})
	}
}

func TestFormatUnknown(t *testing.T) {
	_, err := NewFormat("nope", &bytes.Buffer{}, &bytes.Buffer{}, FormatOptions{})
	var ue *UnknownFormatError
	if !errors.As(err, &ue) || ue.Name != "nope" || len(ue.Valid) != len(FormatNames) {
		t.Fatalf("err = %v", err)
	}
	if CheckFormat("nope") == nil || CheckFormat("testname") != nil {
		t.Error("CheckFormat disagrees with NewFormat")
	}
	for _, n := range FormatNames {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
	}
}

func TestFormatEventAfterClose(t *testing.T) {
	r, err := NewFormat("testname", &bytes.Buffer{}, &bytes.Buffer{}, FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.Event(out("p", "", "x\n")); err == nil {
		t.Error("Event after Close: no error")
	}
}

// The format renderer must not lose events that arrive before the
// scanning goroutine gets going, nor leak it: goleak in TestMain checks.
func TestFormatCountsMatchEvents(t *testing.T) {
	var o bytes.Buffer
	r, err := NewFormat("standard-quiet", &o, &bytes.Buffer{}, FormatOptions{Summary: testjson.SummarizeNone})
	if err != nil {
		t.Fatal(err)
	}
	evs := readRecorded(t, "basic")
	for _, e := range evs {
		if err := r.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// standard-quiet prints package-level output: one ok/FAIL/? line per package.
	var pkgs int
	for _, e := range evs {
		if e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			pkgs++
		}
	}
	var lines int
	for _, l := range strings.Split(o.String(), "\n") {
		if strings.HasPrefix(l, "ok  \t") || strings.HasPrefix(l, "FAIL\t") || strings.HasPrefix(l, "?   \t") {
			lines++
		}
	}
	if lines != pkgs {
		t.Errorf("%d summary lines for %d packages:\n%s", lines, pkgs, o.String())
	}
}
