//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// children lists the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so look after ')'.
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// processesWithEnv lists the processes whose environment holds env (a
// NAME=VALUE unique to one test), with their command lines.
func processesWithEnv(env string) []string {
	var left []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !slices.Contains(strings.Split(string(environ), "\x00"), env) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		left = append(left, e.Name()+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return left
}

// background is a godist run started in the background.
type background struct {
	cmd            *exec.Cmd
	done           chan error // cmd.Wait's result
	stdout, stderr bytes.Buffer
}

// startBackground starts godist with args in dir.
func startBackground(t *testing.T, dir string, args ...string) *background {
	t.Helper()
	bg := &background{cmd: exec.Command(godist(t), args...), done: make(chan error, 1)}
	bg.cmd.Dir = dir
	bg.cmd.Stdout, bg.cmd.Stderr = &bg.stdout, &bg.stderr
	if err := bg.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { bg.done <- bg.cmd.Wait() }()
	return bg
}

// isWorker reports whether pid is a godist worker process.
func isWorker(pid int) bool {
	cmd, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && bytes.HasSuffix(bytes.TrimRight(cmd, "\x00"), []byte("worker"))
}

// TestChaosWorkersKilled kills worker processes at random moments of a run
// of several hundred tests: every test is still reported exactly once, with
// go test's outcome.
func TestChaosWorkersKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end chaos run")
	}
	dir := fixture(t, "basic")
	pkgs := []string{"./many/", "./slow/", "./names/", "./pass/", "./fail/", "./skip/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, pkgs...)...)

	bg := startBackground(t, dir, append([]string{"--history", filepath.Join(t.TempDir(), "h.json"), "-json", "-n", "3"}, pkgs...)...)
	cmd, done, stdout, stderr := bg.cmd, bg.done, &bg.stdout, &bg.stderr
	kills := 0
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
loop:
	for kills < 4 {
		select {
		case <-done:
			done <- nil
			break loop
		case <-time.After(time.Duration(300+rng.IntN(500)) * time.Millisecond):
			// Workers only: killing the compiler would be a build failure.
			kids := slices.DeleteFunc(children(cmd.Process.Pid), func(pid int) bool { return !isWorker(pid) })
			if len(kids) > 0 {
				if syscall.Kill(kids[rng.IntN(len(kids))], syscall.SIGKILL) == nil {
					kills++
				}
			}
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("godist did not finish after %d worker kills\nstderr:\n%s", kills, stderr.String())
	}
	t.Logf("killed %d workers; stderr:\n%s", kills, stderr.String())
	if kills == 0 {
		t.Fatal("no worker was killed: the run ended too soon to test anything")
	}
	if got := cmd.ProcessState.ExitCode(); got != want.code {
		t.Errorf("exit code %d, want %d", got, want.code)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, stdout.String()))
	for key, n := range terminalCounts(t, stdout.String()) {
		if n != 1 && !strings.HasSuffix(key, " Test") { // Test is defined twice in names
			t.Errorf("%s reported %d times", key, n)
		}
	}
}

func TestTestTimeout(t *testing.T) {
	dir := fixture(t, "crash")
	got := runGodist(t, dir, "-json", "-n", "2", "--test-timeout", "1s", "./hang/")
	if got.code != 1 {
		t.Errorf("exit code %d, want 1\n%s", got.code, got.stderr)
	}
	diffOutcomes(t, map[string][]string{
		"example.com/fixture/crash/hang TestQuick": {"pass"},
		"example.com/fixture/crash/hang TestHang":  {"fail"},
		"example.com/fixture/crash/hang ":          {"fail"},
	}, outcomes(t, got.stdout))
	for _, want := range []string{"ran longer than --test-timeout 1s", "goroutine "} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("TestHang's output lacks %q", want)
		}
	}
}

func TestFailfastStopsScheduling(t *testing.T) {
	dir := fixture(t, "crash")
	hist := filepath.Join(t.TempDir(), "h.json")
	// A first run teaches the history that the package is worth several
	// batches; two workers take two, and the others must not start.
	runIn(t, dir, nil, godist(t), "--history", hist, "-n", "2", "./allfail/")
	for _, flag := range []string{"-failfast", "--maxfail=1"} {
		got := runIn(t, dir, nil, godist(t), "--history", hist, "-json", "-n", "2", flag, "./allfail/")
		if got.code != 1 {
			t.Errorf("%s: exit code %d, want 1", flag, got.code)
		}
		// --maxfail is godist's: it says what it did not run. -failfast is
		// go test's: the tests after the failure just do not run.
		if said := strings.Contains(got.stdout, "tests not run"); said != (flag != "-failfast") {
			t.Errorf("%s: 'tests not run' said: %v\n%s", flag, said, got.stdout)
		}
		if n := strings.Count(got.stdout, `"Action":"fail","Package":"example.com/fixture/crash/allfail","Test"`); n == 0 || n >= 8 {
			t.Errorf("%s: %d tests failed, want some but not all 8", flag, n)
		}
	}
}

// TestInterrupt: SIGINT stops the run, reports what ran, exits 130 and
// leaves no test process behind.
func TestInterrupt(t *testing.T) {
	t.Run("workers", func(t *testing.T) { testInterrupt(t, filepath.Join(t.TempDir(), "h.json"), false) })
	t.Run("go test path", func(t *testing.T) {
		var slow []string
		for i := 1; i <= 16; i++ {
			slow = append(slow, fmt.Sprintf("TestSlow%02d", i))
		}
		testInterrupt(t, goTestPathHistory(t, "example.com/fixture/basic/slow", slow...), true)
	})
}

// goTestPathHistory writes a history that believes package pkg's tests
// take a millisecond each, which sends a run of them down the go test path.
func goTestPathHistory(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	tests := map[string]any{}
	for _, name := range names {
		tests[name] = map[string]any{"ewma": int64(time.Millisecond), "last": int64(time.Millisecond), "n": 1}
	}
	hist := filepath.Join(t.TempDir(), "h.json")
	b, err := json.Marshal(map[string]any{"version": 1, "packages": map[string]any{
		pkg: map[string]any{"tests": tests},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hist, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return hist
}

// TestKilledGodistLeavesNothing: godist killed outright (SIGKILL) while a
// test hangs without a word leaves no process running, on workers and on
// the go test path (whose test binaries are go test's children, not
// godist's); the temporary directories it could not remove go at the
// next run.
func TestKilledGodistLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: kills godist mid-run")
	}
	for _, goTestPath := range []bool{false, true} {
		t.Run(fmt.Sprintf("go test path %v", goTestPath), func(t *testing.T) {
			dir := fixture(t, "crash")
			hist := filepath.Join(t.TempDir(), "h.json")
			if goTestPath {
				hist = goTestPathHistory(t, "example.com/fixture/crash/hang", "TestQuick", "TestHang")
			}
			tmp := t.TempDir()
			marker := fmt.Sprintf("GODIST_KILL_TEST=%d", time.Now().UnixNano())
			stats := filepath.Join(t.TempDir(), "stats.json")
			cmd := exec.Command(godist(t), "--history", hist, "--stats", stats, "-n", "2", "./hang/")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), marker, "TMPDIR="+tmp)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// TestHang runs once a test process shows the marker.
			var running []string
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if running = processesWithEnv(marker); slices.ContainsFunc(running, func(p string) bool { return strings.Contains(p, "hang.test") }) {
					break
				}
			}
			if viaGoTest := slices.ContainsFunc(running, func(p string) bool { return strings.Contains(p, " test -json") && !strings.Contains(p, "-exec") }); viaGoTest != goTestPath {
				t.Errorf("go test ran: %v, want %v:\n%s", viaGoTest, goTestPath, strings.Join(running, "\n"))
			}
			time.Sleep(300 * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()
			var left []string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if left = processesWithEnv(marker); len(left) == 0 {
					break
				}
			}
			if len(left) > 0 {
				t.Errorf("processes left after godist was killed:\n%s", strings.Join(left, "\n"))
				for _, p := range left {
					pid, _, _ := strings.Cut(p, ":")
					if pid, err := strconv.Atoi(pid); err == nil {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			stale, _ := filepath.Glob(filepath.Join(tmp, "godist-*"))
			if len(stale) == 0 {
				t.Fatalf("godist killed outright left no temporary directory in %s: nothing to sweep", tmp)
			}
			old := time.Now().Add(-2 * time.Minute) // past tmpdir.MinAge
			for _, d := range stale {
				os.Chtimes(d, old, old)
			}
			again := runIn(t, dir, []string{"TMPDIR=" + tmp, "GODIST_FIXTURE_HANG=0"}, godist(t), "--history", hist, "--stats", stats, "./hang/")
			if again.code != 0 {
				t.Fatalf("next run: exit %d\n%s", again.code, again.stderr)
			}
			if stale, _ := filepath.Glob(filepath.Join(tmp, "godist-*")); len(stale) > 0 {
				t.Errorf("the next run left the stale directories: %v", stale)
			}
		})
	}
}

// testInterrupt interrupts a run of the slow package: exit code 130, the
// package reported, no process left.
func testInterrupt(t *testing.T, hist string, goTestPath bool) {
	dir := fixture(t, "basic")
	stats := filepath.Join(t.TempDir(), "stats.json")
	cmd := exec.Command(godist(t), "--history", hist, "--stats", stats, "-n", "2", "./slow/")
	cmd.Dir = dir
	marker := fmt.Sprintf("GODIST_INTERRUPT_TEST=%d", time.Now().UnixNano())
	cmd.Env = append(os.Environ(), marker)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if got := cmd.ProcessState.ExitCode(); got != 130 {
		t.Errorf("exit code %d, want 130\nstdout:\n%s\nstderr:\n%s", got, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "FAIL\texample.com/fixture/basic/slow") {
		t.Errorf("no package result after the interrupt:\n%s", stdout.String())
	}
	time.Sleep(200 * time.Millisecond)
	if left := processesWithEnv(marker); len(left) > 0 {
		t.Errorf("processes left after the interrupt:\n%s", strings.Join(left, "\n"))
	}
	if st := readStats(t, stats); st.GoTestPath != goTestPath {
		t.Errorf("go test path %t, want %t", st.GoTestPath, goTestPath)
	}
}

func TestRerunFails(t *testing.T) {
	dir := fixture(t, "crash")
	env := []string{"GODIST_FLAKY_DIR=" + t.TempDir()}
	hist := filepath.Join(t.TempDir(), "h.json")
	got := runIn(t, dir, env, godist(t), "--history", hist, "-json", "--rerun-fails", "./flaky/")
	if got.code != 0 {
		t.Errorf("exit code %d, want 0: the flaky test passed on its rerun\n%s", got.code, got.stderr)
	}
	diffOutcomes(t, map[string][]string{
		"example.com/fixture/crash/flaky TestFlaky":  {"fail", "pass"},
		"example.com/fixture/crash/flaky TestStable": {"pass"},
		"example.com/fixture/crash/flaky ":           {"pass"},
	}, outcomes(t, got.stdout))

	// A test that always fails is rerun N times and still fails the run.
	got = runIn(t, dir, nil, godist(t), "--history", hist, "-json", "--rerun-fails=1", "./exits/")
	if got.code != 1 {
		t.Errorf("exit code %d, want 1", got.code)
	}
	diffOutcomes(t, map[string][]string{
		"example.com/fixture/crash/exits TestD": {"fail", "fail"},
		"example.com/fixture/crash/exits TestE": {"pass"},
		"example.com/fixture/crash/exits ":      {"fail"},
	}, outcomes(t, got.stdout))
}

func TestReportFiles(t *testing.T) {
	dir := fixture(t, "basic")
	tmp := t.TempDir()
	jsonFile, junitFile := filepath.Join(tmp, "out.json"), filepath.Join(tmp, "junit.xml")
	got := runGodist(t, dir, "--format", "testname", "--jsonfile", jsonFile, "--junitfile", junitFile, "./pass/", "./fail/")
	if got.code != 1 || !strings.Contains(got.stdout, "DONE") {
		t.Errorf("exit %d, stdout:\n%s", got.code, got.stdout)
	}
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./pass/", "./fail/")
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, string(data)))
	xml, err := os.ReadFile(junitFile)
	if err != nil || !bytes.Contains(xml, []byte(`<testsuite tests="16" failures="14"`)) {
		t.Errorf("junit file: %v\n%.400s", err, xml)
	}
	// Every top-level test case names its worker.
	top := regexp.MustCompile(`<testcase [^>]*name="[^"/]*"[^>]*>`).FindAll(xml, -1)
	named := regexp.MustCompile(`<testcase [^>]*name="[^"/]*"[^>]*>\s*<properties>\s*<property name="godist.worker" value="gw\d+"`).FindAll(xml, -1)
	if len(top) != 11 || len(named) != len(top) {
		t.Errorf("junit file: %d of %d top-level test cases (want 11) have a godist.worker property\n%s", len(named), len(top), xml)
	}
	bad := runGodist(t, dir, "--format", "fancy", "./pass/")
	if bad.code != 2 || !strings.Contains(bad.stderr, "testname") {
		t.Errorf("unknown format: exit %d, stderr %q", bad.code, bad.stderr)
	}
}

// TestNoWorkersLeft: when the last worker dies and may not be replaced, the
// tests it had not run are reported as not run and the run fails.
func TestNoWorkersLeft(t *testing.T) {
	dir := fixture(t, "basic")
	cmd := exec.Command(godist(t), "--history", filepath.Join(t.TempDir(), "h.json"), "-json", "-n", "1", "--max-worker-restart", "0", "./slow/")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	killed := false
	for !killed && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		for _, pid := range children(cmd.Process.Pid) {
			if isWorker(pid) && syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed = true
			}
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("found no worker to kill")
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "--max-worker-restart 0 reached") {
		t.Errorf("stderr does not say why the worker was not replaced:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "no workers left") || !strings.Contains(stdout.String(), "tests not run") {
		t.Errorf("the tests not run are not reported:\n%s", stdout.String())
	}
	got := terminalCounts(t, stdout.String())
	for key, n := range got {
		if n != 1 {
			t.Errorf("%s reported %d times", key, n)
		}
	}
}

// TestGotestsumRerunFails: gotestsum --rerun-fails drives godist, appending
// -test.run=^...$ PKG to its command line. (--dist loadpkg: the flaky test
// then fails as go test runs it, and no confirm run of godist's own hides
// the failure from gotestsum.)
func TestGotestsumRerunFails(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotestsum")
	}
	dir := fixture(t, "crash")
	env := []string{"GODIST_FLAKY_DIR=" + t.TempDir()}
	got := runIn(t, dir, env, gotestsum(t), "--format", "standard-quiet", "--rerun-fails", "--packages", "./flaky/",
		"--raw-command", "--", godist(t), "--history", filepath.Join(t.TempDir(), "h.json"), "--dist", "loadpkg", "-json", "./flaky/")
	if got.code != 0 {
		t.Errorf("gotestsum exit %d, want 0 after a passing rerun\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr)
	}
	if !strings.Contains(got.stdout, "DONE 2 runs") {
		t.Errorf("gotestsum did not rerun through godist:\n%s", got.stdout)
	}
}

// Bad local state never stops a run: a history file with a null test
// entry, one that is not JSON, and a FIFO in its place are each reported,
// kept aside for a look, and the run gives go test's outcome; the next run
// is quiet.
func TestBadHistoryIsSetAside(t *testing.T) {
	dir := fixture(t, "basic")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./many/")
	first := filepath.Join(t.TempDir(), "good.json")
	runIn(t, dir, nil, godist(t), "--history", first, "-count=1", "--dist", "load", "-n", "2", "./many/")
	good, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Packages map[string]struct {
			Tests map[string]json.RawMessage `json:"tests"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(good, &h); err != nil {
		t.Fatal(err)
	}
	var pkg, test string
	for p, ph := range h.Packages {
		for name := range ph.Tests {
			pkg, test = p, name
		}
	}
	nullEntry := bytes.Replace(good, []byte(`"`+test+`":{`), []byte(`"`+test+`":null,"x`+test+`":{`), 1)
	if bytes.Equal(nullEntry, good) {
		t.Fatalf("no entry for %s %s in %s", pkg, test, good)
	}
	cases := map[string]func(path string) error{
		"null entry": func(path string) error { return os.WriteFile(path, nullEntry, 0o644) },
		"not JSON":   func(path string) error { return os.WriteFile(path, []byte(`{"version":1,`), 0o644) },
		"FIFO":       func(path string) error { return syscall.Mkfifo(path, 0o644) },
	}
	for name, make := range cases {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "history.json")
			if err := make(path); err != nil {
				t.Fatal(err)
			}
			args := []string{"--history", path, "-count=1", "--dist", "load", "-n", "2", "-json", "./many/"}
			got := runIn(t, dir, nil, godist(t), args...)
			if got.code != want.code || !strings.Contains(got.stderr, "history "+path) || !strings.Contains(got.stderr, "kept as "+path+".bad-") {
				t.Fatalf("exit %d (want %d); stderr:\n%s", got.code, want.code, got.stderr)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
			if aside, _ := filepath.Glob(path + ".bad-*"); len(aside) != 1 {
				t.Errorf("set aside: %v, want one file", aside)
			}
			again := runIn(t, dir, nil, godist(t), args...)
			if again.code != want.code || strings.Contains(again.stderr, "history") {
				t.Errorf("second run: exit %d; stderr:\n%s", again.code, again.stderr)
			}
		})
	}
}
