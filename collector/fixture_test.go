package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The fixture module under testdata/mod is built once per test run.
const fixModule = "example.com/fix"

var (
	fixOnce sync.Once
	fixDir  string // where the test binaries are
	fixErr  error
	modDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	if code == 0 {
		// Only the concurrent merge tests start goroutines (and wait).
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// goEnv is the environment for go commands run on the fixture module.
func goEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
}

// fixtures builds the fixture test binaries once and returns their dir.
func fixtures(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	fixOnce.Do(func() {
		modDir, fixErr = filepath.Abs("testdata/mod")
		if fixErr != nil {
			return
		}
		fixDir, fixErr = os.MkdirTemp("", "collector-fix")
		if fixErr != nil {
			return
		}
		cmd := exec.Command("go", "test", "-c", "-o", fixDir+string(filepath.Separator), "./mixed", "./crash", "./allpass")
		cmd.Dir = modDir
		cmd.Env = goEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			fixErr = fmt.Errorf("build fixtures: %v\n%s", err, out)
		}
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fixDir
}

// runFixture runs a fixture test binary as godist does and returns its
// combined output and exit code.
func runFixture(t testing.TB, pkg, run string, extra ...string) ([]byte, int) {
	t.Helper()
	dir := fixtures(t)
	args := []string{"-test.v=test2json", "-test.paniconexit0", "-test.timeout=1m"}
	if run != "" {
		args = append(args, "-test.run="+run)
	}
	args = append(args, extra...)
	cmd := exec.Command(filepath.Join(dir, pkg+".test"), args...)
	cmd.Dir = filepath.Join(modDir, pkg)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), code
}

// goTestJSON runs `go test -json` on a fixture package.
func goTestJSON(t testing.TB, pkg string, args ...string) []Event {
	t.Helper()
	fixtures(t)
	cmd := exec.Command("go", append(append([]string{"test", "-json", "-count=1"}, args...), "./"+pkg)...)
	cmd.Dir = modDir
	cmd.Env = goEnv()
	out, err := cmd.Output()
	if err != nil && !isExit(err) {
		t.Fatal(err)
	}
	events, err := ReadEvents(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// test2json converts binary output with the toolchain's own converter.
func test2json(t testing.TB, pkg string, out []byte, exitCode int) []Event {
	t.Helper()
	// go test writes its summary into the converter after the binary's
	// output; that is what flushes a pending result after a crash.
	trailer := "ok  \t" + fixModule + "/" + pkg + "\t0.001s\n"
	if exitCode != 0 {
		trailer = "\x16FAIL\t" + fixModule + "/" + pkg + "\t0.001s\n"
	}
	cmd := exec.Command("go", "tool", "test2json", "-t", "-p", fixModule+"/"+pkg)
	cmd.Stdin = io.MultiReader(bytes.NewReader(out), strings.NewReader(trailer))
	js, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool test2json: %v", err)
	}
	events, err := ReadEvents(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// fakeClock advances by a millisecond per reading.
func fakeClock() Clock {
	var mu sync.Mutex
	t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

var (
	durationRE = regexp.MustCompile(`\(\d+\.\d+s\)`)
	summaryRE  = regexp.MustCompile(`\t\d+\.\d+s`)
)

// normalize removes what differs between runs: times, elapsed values,
// durations in output.
func normalize(events []Event) []string {
	var lines []string
	for _, e := range events {
		e.Time = nil
		if e.Elapsed != nil {
			zero := 0.0
			e.Elapsed = &zero
		}
		e.Output = durationRE.ReplaceAllString(e.Output, "(X)")
		e.Output = summaryRE.ReplaceAllString(e.Output, "\tX")
		b, err := json.Marshal(e)
		if err != nil {
			panic(err)
		}
		lines = append(lines, string(b))
	}
	return lines
}

// convert feeds out to a new converter in chunks of size n.
func convert(pkg string, requested []string, out []byte, n, exitCode int) ([]Event, *ProcessResult) {
	var events []Event
	c := NewProcessConverter(fixModule+"/"+pkg, requested, fakeClock(), func(e Event) { events = append(events, e) })
	for b := out; len(b) > 0; {
		k := min(n, len(b))
		c.Write(b[:k])
		b = b[k:]
	}
	r := c.Finish(exitCode, "")
	return events, r
}

func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("first difference at event %d:\ngot  %s\nwant %s", i, g, w)
			break
		}
	}
	t.Errorf("got %d events, want %d", len(got), len(want))
}

// outcomes maps "Test/Action" of terminal events to counts.
func outcomes(events []Event) map[string]int {
	m := make(map[string]int)
	for _, e := range events {
		switch e.Action {
		case "pass", "fail", "skip", "start":
			m[e.Test+" "+e.Action]++
		}
	}
	return m
}

// outputByTest gathers the output lines of each test.
func outputByTest(events []Event) map[string]string {
	m := make(map[string]string)
	for _, e := range events {
		if e.Action == "output" {
			m[e.Test] += e.Output
		}
	}
	for k, v := range m {
		m[k] = durationRE.ReplaceAllString(summaryRE.ReplaceAllString(v, "\tX"), "(X)")
	}
	return m
}
