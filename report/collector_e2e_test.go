package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/godist/godist/collector"
)

// TestCollectorPipeline runs the fixture test binaries the way godist does
// (-test.v=test2json, one process per package here), converts their
// output with the collector's Merger, renders the merged stream as text and
// compares with what go test prints. It checks that the collector's
// stream and this package's renderer agree with each other, not only each
// with go test -json.
func TestCollectorPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fixture test binaries")
	}
	cases := []struct {
		module string
		pkgs   []string // without ./
	}{
		{"basic", []string{"pass", "fail", "skip", "mainpkg", "examples", "fuzz", "files", "many", "names"}},
		{"crash", []string{"panics", "exits", "exit0", "flaky", "mainfail"}},
	}
	for _, c := range cases {
		t.Run(c.module, func(t *testing.T) {
			t.Parallel()
			dir, err := filepath.Abs(filepath.Join(fixtureDir, c.module))
			if err != nil {
				t.Fatal(err)
			}
			bin := t.TempDir()
			var args []string
			for _, p := range c.pkgs {
				args = append(args, "./"+p)
			}
			build := exec.Command("go", append([]string{"test", "-c", "-o", bin + "/"}, args...)...)
			build.Dir = dir
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go test -c: %v\n%s", err, out)
			}
			want := runGo(t, dir, append([]string{"test", "-count=1"}, args...)...)
			wantV := runGo(t, dir, append([]string{"test", "-count=1", "-v"}, args...)...)

			var mu sync.Mutex
			var evs []collector.Event
			flaky := t.TempDir()
			for _, p := range c.pkgs {
				var pkgEvs []collector.Event
				m := collector.NewMerger("example.com/fixture/"+c.module+"/"+p, nil, func(e collector.Event) {
					mu.Lock()
					pkgEvs = append(pkgEvs, e)
					mu.Unlock()
				})
				m.Start()
				conv := m.NewProcess(nil, false)
				cmd := exec.Command(filepath.Join(bin, p+".test"), "-test.v=test2json", "-test.paniconexit0", "-test.timeout=10m")
				cmd.Dir = filepath.Join(dir, p)
				cmd.Env = append(os.Environ(), "GODIST_FLAKY_DIR="+filepath.Join(flaky, p))
				os.MkdirAll(filepath.Join(flaky, p), 0o755)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				code := 0
				if err := cmd.Run(); err != nil {
					ee, ok := err.(*exec.ExitError)
					if !ok {
						t.Fatal(err)
					}
					code = ee.ExitCode()
				}
				conv.Write(out.Bytes())
				conv.Finish(code, "")
				m.Finish()
				evs = append(evs, pkgEvs...)
			}
			for _, v := range []struct {
				verbose bool
				want    goRun
			}{{false, want}, {true, wantV}} {
				got, _ := renderText(t, evs, v.verbose)
				if g, w := normalizePipeline(got), normalizePipeline(string(v.want.stdout)); g != w {
					t.Errorf("verbose=%v:\n%s", v.verbose, lineDiff(w, g))
				}
			}
		})
	}
}

// normalizePipeline is normalize minus what godist reports on purpose
// where go test says nothing: for a test binary that exited mid-test the
// collector adds a reason line ("test binary exited with status 3 while
// running TestD") and a --- FAIL header for each test still running;
// go test's own "exit status N" line is dropped as process noise.
func normalizePipeline(s string) string {
	s = normalize(s)
	var keep []string
	synth := false
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(l, "test binary exited with status ") || strings.HasPrefix(l, "test binary was killed"):
			synth = true
			continue
		case synth && strings.HasPrefix(strings.TrimLeft(l, " "), "--- FAIL: "):
			continue
		case strings.HasPrefix(l, "exit status "):
			continue
		}
		synth = false
		keep = append(keep, l)
	}
	return strings.Join(keep, "")
}
