package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/run"
)

// The end-to-end tests run the real godist binary, built once, against the
// fixture modules under testdata/, next to real go test on the same
// packages.

var (
	buildOnce  sync.Once
	godistBin  string
	buildErr   error
	toolsDir   string
	gotestsumB string
	gtsOnce    sync.Once
	gtsErr     error
)

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

// godist returns the path of a godist binary built from this tree.
func godist(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		godistBin = filepath.Join(toolsDir, "godist")
		args := []string{"build", "-o", godistBin}
		if raceEnabled {
			// The orchestration runs in this binary: under -race, so a
			// data race fails the test that meets it (exit status 66).
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return godistBin
}

// gotestsum returns the path of the gotestsum tool pinned in go.mod.
func gotestsum(t *testing.T) string {
	t.Helper()
	gtsOnce.Do(func() {
		gotestsumB = filepath.Join(toolsDir, "gotestsum")
		cmd := exec.Command("go", "build", "-o", gotestsumB, "gotest.tools/gotestsum")
		out, err := cmd.CombinedOutput()
		if err != nil {
			gtsErr = fmt.Errorf("go build gotestsum: %v\n%s", err, out)
		}
	})
	if gtsErr != nil {
		t.Fatal(gtsErr)
	}
	return gotestsumB
}

type result struct {
	stdout, stderr string
	code           int
}

// runIn runs a command in a fixture directory with a private history.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

func fixture(t *testing.T, name string) string {
	return filepath.Join(repoRoot(t), "testdata", name)
}

func runGodist(t *testing.T, dir string, args ...string) result {
	t.Helper()
	hist := filepath.Join(t.TempDir(), "history.json")
	return runIn(t, dir, nil, godist(t), append([]string{"--history", hist}, args...)...)
}

// outcomes reads a -json stream into "pkg test" -> actions, in order.
func outcomes(t *testing.T, stream string) map[string][]string {
	t.Helper()
	events, err := collector.ReadEvents(strings.NewReader(stream))
	if err != nil {
		t.Fatalf("reading events: %v\n%s", err, stream)
	}
	got := map[string][]string{}
	for _, e := range events {
		switch e.Action {
		case "pass", "fail", "skip", "build-fail":
			key := e.Package + " " + e.Test
			if e.Action == "build-fail" {
				key = e.ImportPath + " (build)"
			}
			got[key] = append(got[key], e.Action)
		}
	}
	return got
}

func diffOutcomes(t *testing.T, want, got map[string][]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Equal(want[k], got[k]) {
			t.Errorf("%s: go test %v, godist %v", k, want[k], got[k])
		}
	}
}

// basicArgs runs the basic fixture without its 8-second package.
var basicArgs = []string{"-skip", "^TestSlow", "./..."}

func TestOutcomesMatchGoTest(t *testing.T) {
	dir := fixture(t, "basic")
	for _, n := range []string{"1", "3", "8"} {
		t.Run("n="+n, func(t *testing.T) {
			want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, basicArgs...)...)
			got := runGodist(t, dir, append([]string{"-json", "-n", n}, basicArgs...)...)
			if got.code != want.code {
				t.Errorf("exit code: go test %d, godist %d", want.code, got.code)
			}
			if got.stderr != "" {
				t.Errorf("godist -json wrote to stderr:\n%s", got.stderr)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
		})
	}
	t.Run("go test path", func(t *testing.T) {
		tmp := t.TempDir()
		hist, stats := filepath.Join(tmp, "h.json"), filepath.Join(tmp, "stats.json")
		want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, basicArgs...)...)
		for run := 1; run <= 2; run++ {
			got := runIn(t, dir, nil, godist(t), append([]string{"--history", hist, "--stats", stats, "-json"}, basicArgs...)...)
			if st := readStats(t, stats); st.GoTestPath != (run == 2) {
				t.Errorf("run %d: go test path %t, want %t", run, st.GoTestPath, run == 2)
			}
			if got.code != want.code || got.stderr != "" {
				t.Errorf("run %d: exit code %d (go test %d), stderr %q", run, got.code, want.code, got.stderr)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
		}
	})
}

var durations = regexp.MustCompile(`\d+\.\d+s`)

// TestTextMatchesGoTest compares godist's text output with go test's, run
// twice so that the second run splits packages by their history.
func TestTextMatchesGoTest(t *testing.T) {
	dir := fixture(t, "basic")
	// parallel is left out: the order its tests finish in varies.
	pkgs := []string{"./pass/", "./fail/", "./skip/", "./mainpkg/", "./examples/", "./fuzz/",
		"./files/", "./nottests/", "./buildfail/", "./many/", "./names/", "./samename/..."}
	for _, verbose := range []bool{false, true} {
		t.Run(fmt.Sprintf("v=%t", verbose), func(t *testing.T) {
			args := slices.Clone(pkgs)
			if verbose {
				args = append([]string{"-v"}, args...)
			}
			want := runIn(t, dir, nil, "go", append([]string{"test", "-count=1"}, args...)...)
			hist := filepath.Join(t.TempDir(), "history.json")
			stats := filepath.Join(t.TempDir(), "stats.json")
			for run := 1; run <= 3; run++ {
				// Run 1 reports workers (the default). Run 2 is told not
				// to and must then be go test's text exactly; --dist load
				// keeps it on workers, split by the history. Run 3, a
				// small suite the history knows, takes the go test path.
				flags := []string{"--history", hist, "-n", "4", "--stats", stats}
				if run == 2 {
					flags = append(flags, "--worker-attr=false", "--dist", "load")
				}
				got := runIn(t, dir, nil, godist(t), append(flags, args...)...)
				if st := readStats(t, stats); st.GoTestPath != (run == 3) {
					t.Errorf("run %d: go test path %t, want %t", run, st.GoTestPath, run == 3)
				}
				if got.code != want.code {
					t.Errorf("run %d: exit code: go test %d, godist %d", run, want.code, got.code)
				}
				if run == 1 && verbose {
					got.stdout = checkWorkerAttrs(t, got.stdout)
				} else if strings.Contains(got.stdout, "godist.worker") {
					t.Errorf("run %d: worker attributes in the output", run)
				}
				w := durations.ReplaceAllString(want.stdout, "X.XXs")
				g := durations.ReplaceAllString(got.stdout, "X.XXs")
				if w != g {
					t.Errorf("run %d: stdout differs from go test's\n--- go test\n%s\n--- godist\n%s", run, w, g)
				}
				if got.stderr != want.stderr {
					t.Errorf("run %d: stderr differs\n--- go test\n%s\n--- godist\n%s", run, want.stderr, got.stderr)
				}
			}
		})
	}
}

var doneLine = regexp.MustCompile(`(?m)^DONE .*$`)

// TestGotestsumCounts drives godist from gotestsum, as CI setups do.
func TestGotestsumCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotestsum")
	}
	dir := fixture(t, "basic")
	gts := gotestsum(t)
	want := runIn(t, dir, nil, gts, append([]string{"--format", "standard-quiet", "--", "-count=1"}, basicArgs...)...)
	hist := filepath.Join(t.TempDir(), "history.json")
	got := runIn(t, dir, nil, gts, append([]string{"--format", "standard-quiet", "--raw-command", "--",
		godist(t), "--history", hist, "-json"}, basicArgs...)...)
	w := durations.ReplaceAllString(doneLine.FindString(want.stdout), "X")
	g := durations.ReplaceAllString(doneLine.FindString(got.stdout), "X")
	if w == "" || w != g {
		t.Errorf("gotestsum summary: go test %q, godist %q\n%s", w, g, got.stdout)
	}
	if got.code != want.code {
		t.Errorf("exit code: go test %d, godist %d", want.code, got.code)
	}
}

// TestCrashesLoseNothing: where go test loses the rest of a package after a
// panic or os.Exit, godist runs the rest elsewhere and reports it.
func TestCrashesLoseNothing(t *testing.T) {
	dir := fixture(t, "crash")
	tmp := t.TempDir()
	hist, stats := filepath.Join(tmp, "h.json"), filepath.Join(tmp, "stats.json")
	// The second run is a small suite the history knows: it takes the go
	// test path, where the tests a crash left unstarted run on workers.
	for run := 1; run <= 2; run++ {
		got := runIn(t, dir, nil, godist(t), "--history", hist, "--stats", stats, "-json", "-n", "2", "./panics/", "./exits/", "./exit0/")
		if st := readStats(t, stats); st.GoTestPath != (run == 2) {
			t.Errorf("run %d: go test path %t, want %t", run, st.GoTestPath, run == 2)
		}
		// go test -json does not report a test binary's exit status.
		reason := "exited with status 3 while running TestD"
		if run == 2 {
			reason = "exited with a failure status while running TestD"
		}
		checkCrashOutcomes(t, got, reason)
	}
}

func checkCrashOutcomes(t *testing.T, got result, reason string) {
	t.Helper()
	if got.code != 1 {
		t.Errorf("exit code %d, want 1", got.code)
	}
	if got.stderr != "" {
		t.Errorf("stderr: %s", got.stderr)
	}
	for key, n := range terminalCounts(t, got.stdout) {
		if n != 1 {
			t.Errorf("%s reported %d times", key, n)
		}
	}
	want := map[string][]string{
		"example.com/fixture/crash/panics TestA":       {"pass"},
		"example.com/fixture/crash/panics TestB":       {"fail"},
		"example.com/fixture/crash/panics TestC":       {"pass"},
		"example.com/fixture/crash/panics ":            {"fail"},
		"example.com/fixture/crash/exits TestD":        {"fail"},
		"example.com/fixture/crash/exits TestE":        {"pass"},
		"example.com/fixture/crash/exits ":             {"fail"},
		"example.com/fixture/crash/exit0 TestExitZero": {"fail"},
		"example.com/fixture/crash/exit0 ":             {"fail"},
	}
	diffOutcomes(t, want, outcomes(t, got.stdout))
	if !strings.Contains(got.stdout, reason) {
		t.Errorf("no %q for TestD:\n%s", reason, got.stdout)
	}
}

func TestExitCodes(t *testing.T) {
	dir := fixture(t, "basic")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"pass", []string{"./pass/"}, 0, ""},
		{"fail", []string{"./fail/"}, 1, ""},
		{"build failure", []string{"./buildfail/"}, 1, "undefined: undefinedThing"},
		{"unsupported flag", []string{"-bench", ".", "./pass/"}, 2, "flag -bench is not supported"},
		{"misspelt godist flag", []string{"--maxfial", "3", "./pass/"}, 2, "did you mean --maxfail?"},
		// go test hands a flag it does not know to the binary, which refuses it.
		{"unknown flag", []string{"./pass/", "-frobnicate"}, 1, ""},
		{"bad -n", []string{"-n", "many", "./pass/"}, 2, `-n "many"`},
		{"bad --dist", []string{"--dist", "sideways", "./pass/"}, 2, `--dist "sideways"`},
		// go test leaves a bad pattern to the binary, which fails its
		// package (TestBadPatternAsGoTest compares the text).
		{"bad -run", []string{"-run", "(", "./pass/"}, 1, ""},
		{"no such package", []string{"./nosuchdir/"}, 1, "nosuchdir"},
		// -C DIR is go test's only when first (runGodist puts --history
		// first): a usage error.
		{"-C not first", []string{"-C", "pass", "."}, 2, "-C flag must be first flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runGodist(t, dir, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, got.stdout, got.stderr)
			}
			if tc.stderr != "" && !strings.Contains(got.stderr, tc.stderr) {
				t.Errorf("stderr %q does not mention %q", got.stderr, tc.stderr)
			}
		})
	}
}

// -C DIR, first: godist runs in DIR, as go test; a DIR that is not there
// is go test's error and status.
func TestChangeDir(t *testing.T) {
	dir := fixture(t, "basic")
	hist := filepath.Join(t.TempDir(), "history.json")
	got := runIn(t, dir, nil, godist(t), "-C", "pass", "--history", hist, ".")
	if got.code != 0 || !strings.Contains(got.stdout, "ok  \texample.com/fixture/basic/pass") {
		t.Errorf("-C pass .: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	got = runIn(t, dir, nil, godist(t), "-C=nosuchdir", "--history", hist, ".")
	if got.code != 1 || !strings.Contains(got.stderr, "chdir nosuchdir: no such file or directory") {
		t.Errorf("-C=nosuchdir: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
}

// TestDistModes: every --dist mode gives go test's outcomes.
func TestDistModes(t *testing.T) {
	dir := fixture(t, "basic")
	args := []string{"./pass/", "./fail/", "./names/", "./mainpkg/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, args...)...)
	for _, mode := range []string{"load", "loadpkg", "no"} {
		t.Run(mode, func(t *testing.T) {
			got := runGodist(t, dir, append([]string{"-json", "--dist", mode}, args...)...)
			if got.code != want.code {
				t.Errorf("exit code: go test %d, godist %d", want.code, got.code)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
		})
	}
}

func TestListMatchesGoTest(t *testing.T) {
	dir := fixture(t, "basic")
	args := []string{"-list", "Test[AB]|Example", "./names/", "./examples/", "./nottests/"}
	want := runIn(t, dir, nil, "go", append([]string{"test"}, args...)...)
	got := runGodist(t, dir, args...)
	w := durations.ReplaceAllString(want.stdout, "X")
	g := durations.ReplaceAllString(got.stdout, "X")
	if w != g || got.code != want.code {
		t.Errorf("-list: exit %d vs %d\n--- go test\n%s\n--- godist\n%s", want.code, got.code, w, g)
	}
}

func TestCoverProfile(t *testing.T) {
	dir := fixture(t, "basic")
	out := filepath.Join(t.TempDir(), "cover.out")
	got := runGodist(t, dir, "-n", "3", "-coverprofile", out, "./many/")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	want := runIn(t, dir, nil, "go", "test", "-count=1", "-cover", "./many/")
	if durations.ReplaceAllString(got.stdout, "X") != durations.ReplaceAllString(want.stdout, "X") {
		t.Errorf("coverage summary\n--- go test\n%s--- godist\n%s", want.stdout, got.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(data), "mode: ") {
		t.Errorf("profile %s: %v %q", out, err, data)
	}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "godist-e2e-")
	if err != nil {
		panic(err)
	}
	toolsDir = dir
	// Socket servers make their token in the config directory: not the
	// user's. Clients of the tests find it there.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Unsetenv("GODIST_TOKEN_FILE")
	// Runs compared with go test -count=1 run every test; the cache's own
	// test names a cache directory of its own.
	os.Setenv("GODIST_CACHE", "off")
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestShardsMerge: four CI shards, two of which restored the duration
// history and two did not (an ordinary cache miss), merged, give go
// test's outcomes, each test exactly once; merge refuses every set that
// is not one whole run, naming what is wrong.
func TestShardsMerge(t *testing.T) {
	dir := fixture(t, "basic")
	hist := filepath.Join(t.TempDir(), "history.json")
	args := append([]string{"-json"}, basicArgs...)
	// Warm the history, as a CI cache would hold it.
	runIn(t, dir, nil, godist(t), append([]string{"--history", hist}, args...)...)
	tmp := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(tmp, name)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	var files []string
	for i := 1; i <= 4; i++ {
		h := hist
		if i > 2 {
			h = filepath.Join(tmp, fmt.Sprintf("cold%d.json", i)) // this job's cache missed
		}
		got := runIn(t, dir, nil, godist(t), append([]string{"--history", h, "--shard", fmt.Sprintf("%d/4", i)}, args...)...)
		files = append(files, write(fmt.Sprintf("shard%d.json", i), got.stdout))
	}
	// Flags after the files, as godist takes them.
	merged := runIn(t, dir, nil, godist(t), append(append([]string{"merge"}, files...), "-json")...)
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, basicArgs...)...)
	if merged.code != want.code {
		t.Errorf("merge exit %d, go test %d\n%s", merged.code, want.code, merged.stderr)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, merged.stdout))
	for key, n := range terminalCounts(t, merged.stdout) {
		if n != 1 && !strings.HasSuffix(key, " Test") { // Test is defined twice in names
			t.Errorf("%s reported %d times", key, n)
		}
	}
	if strings.Contains(merged.stdout, collector.ShardAttr) {
		t.Errorf("the merged stream keeps the shards' manifests")
	}
	text := runIn(t, dir, nil, godist(t), append([]string{"merge"}, files...)...)
	if strings.Contains(text.stdout, collector.ShardAttr) || text.code != want.code {
		t.Errorf("merged text: exit %d, want %d; manifest shown: %v", text.code, want.code, strings.Contains(text.stdout, collector.ShardAttr))
	}

	// What merge must refuse.
	lines := strings.SplitAfter(readFile(t, files[1]), "\n")
	cut := write("cut.json", strings.Join(lines[:len(lines)/2], ""))
	empty := write("empty.json", "")
	plain := write("gotest.json", want.stdout)
	other := runIn(t, dir, nil, godist(t), "--history", hist, "--shard", "2/4", "-json", "-run", "TestTiny", "./...")
	otherPlan := write("other.json", other.stdout)
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"missing", []string{files[0], files[1], files[3]}, "shard 3/4 is missing"},
		{"doubled", []string{files[0], files[1], files[2], files[2], files[3]}, "shard 3/4 is given 2 times"},
		{"only the passing", []string{files[0]}, "is missing"},
		{"empty", append([]string{empty}, files...), "empty.json: no events"},
		{"other plan", []string{files[0], otherPlan, files[2], files[3]}, "other.json is shard 2/4"},
		{"mixed with go test", append([]string{plain}, files...), "gotest.json: not a godist --shard stream"},
		{"cut short", []string{files[0], cut, files[2], files[3]}, "never ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runIn(t, dir, nil, godist(t), append([]string{"merge", "-json"}, tc.files...)...)
			if got.code != 2 || !strings.Contains(got.stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q in stderr:\n%s", got.code, tc.want, got.stderr)
			}
			if got.stdout != "" {
				t.Errorf("a refused merge printed results:\n%.300s", got.stdout)
			}
		})
	}
	bad := runIn(t, dir, nil, godist(t), "--shard", "4/3", "./pass/")
	if bad.code != 2 || !strings.Contains(bad.stderr, "--shard") {
		t.Errorf("--shard 4/3: exit %d, stderr %q", bad.code, bad.stderr)
	}
}

// TestDistEach: every worker runs everything; each worker's results are
// reported as PKG@gwN and equal go test's.
func TestDistEach(t *testing.T) {
	dir := fixture(t, "basic")
	args := []string{"./pass/", "./fail/", "./nottests/"}
	want := outcomes(t, runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, args...)...).stdout)
	got := runGodist(t, dir, append([]string{"-json", "-n", "2", "--dist", "each"}, args...)...)
	if got.code != 1 {
		t.Errorf("exit code %d, want 1", got.code)
	}
	all := outcomes(t, got.stdout)
	for _, gw := range []string{"gw0", "gw1"} {
		per := map[string][]string{}
		for key, actions := range all {
			pkg, test, _ := strings.Cut(key, " ")
			if base, ok := strings.CutSuffix(pkg, "@"+gw); ok {
				per[base+" "+test] = actions
			}
		}
		t.Run(gw, func(t *testing.T) { diffOutcomes(t, want, per) })
	}
}

// TestSubtestSplitting: from the second run on, tests whose time is under
// one top-level function (a table test, a testify suite, grpc-style
// duplicate Test, awkward subtest names) run in parts below the top level,
// and the merged stream still has go test's outcomes, each test once, and
// go test's text.
func TestSubtestSplitting(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end, several seconds")
	}
	dir := fixture(t, "subtests")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./...")
	wantText := runIn(t, dir, nil, "go", "test", "-count=1", "./...")
	tmp := t.TempDir()
	hist := filepath.Join(tmp, "history.json")
	procs := func(stats string) int { return readStats(t, stats).TestProcesses }
	first := runIn(t, dir, nil, godist(t), "--history", hist, "--stats", filepath.Join(tmp, "1.json"), "-n", "4", "-json", "./...")
	second := runIn(t, dir, nil, godist(t), "--history", hist, "--stats", filepath.Join(tmp, "2.json"), "-n", "4", "-json", "./...")
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, first.stdout))
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, second.stdout))
	if p1, p2 := procs(filepath.Join(tmp, "1.json")), procs(filepath.Join(tmp, "2.json")); p2 <= p1+4 {
		t.Errorf("second run started %d test processes, first %d: tests were not split below the top level", p2, p1)
	}
	// The longest piece of work of a split test is its longest subtest.
	if l1, l2 := readStats(t, filepath.Join(tmp, "1.json")).LongestTest, readStats(t, filepath.Join(tmp, "2.json")).LongestTest; l2 >= l1 {
		t.Errorf("longest test %.2fs on the split run, %.2fs whole: a split test counted whole", l2, l1)
	}
	text := runIn(t, dir, nil, godist(t), "--history", hist, "-n", "4", "./...")
	if w, g := durations.ReplaceAllString(wantText.stdout, "X"), durations.ReplaceAllString(text.stdout, "X"); w != g {
		t.Errorf("text differs from go test's\n--- go test\n%s\n--- godist\n%s", w, g)
	}
	// -v too: the split tests' subtests in the order one process runs them,
	// the split ones naming each part's worker.
	wantV := runIn(t, dir, nil, "go", "test", "-count=1", "-v", "./...")
	textV := runIn(t, dir, nil, godist(t), "--history", hist, "-n", "4", "-v", "./...")
	if !regexp.MustCompile(`(?m)^=== ATTR  \S+/\S+ godist\.worker gw\d+$`).MatchString(textV.stdout) {
		t.Errorf("-v: no worker attribute for a split test's subtest")
	}
	if w, g := durations.ReplaceAllString(wantV.stdout, "X"), durations.ReplaceAllString(checkWorkerAttrs(t, textV.stdout), "X"); w != g {
		t.Errorf("-v text differs from go test's\n--- go test\n%s\n--- godist\n%s", w, g)
	}
}

// readStats reads what godist --stats wrote.
func readStats(t *testing.T, path string) run.Stats {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st run.Stats
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

var workerAttrLine = regexp.MustCompile(`^=== ATTR  (\S+) godist\.worker (gw\d+(,gw\d+)*)$`)

// checkWorkerAttrs checks that godist -v output names a worker right after
// each top-level test's === RUN line, and returns the output without those
// lines.
func checkWorkerAttrs(t *testing.T, out string) string {
	t.Helper()
	lines := strings.SplitAfter(out, "\n")
	var kept []string
	for i, l := range lines {
		if m := workerAttrLine.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			if i == 0 || lines[i-1] != "=== RUN   "+m[1]+"\n" {
				t.Errorf("worker attribute not right after its test's === RUN line: %q", l)
			}
			continue
		}
		if name, ok := strings.CutPrefix(l, "=== RUN   "); ok && !strings.Contains(name, "/") {
			if i+1 >= len(lines) || !workerAttrLine.MatchString(strings.TrimSuffix(lines[i+1], "\n")) {
				t.Errorf("top-level test %s: no worker attribute after its === RUN line", strings.TrimSpace(name))
			}
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "")
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
