//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every run ends (issue 13): a test killed by --test-timeout does not keep
// the tests after it from running, in every mode.
func TestTestTimeoutRunsTheRest(t *testing.T) {
	t.Parallel() // waits on deadlines or a cross build: beside TestKillTimeoutAsGoTest
	dir := fixture(t, "crash")
	for _, mode := range [][]string{{"-n", "1"}, {"-n", "2"}, {"--dist", "no"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			start := time.Now()
			got := runGodist(t, dir, append(append([]string{"-json"}, mode...), "--test-timeout", "1s", "./hangmid/")...)
			if d := time.Since(start); d > 2*time.Minute {
				t.Errorf("run took %v", d) // a liveness bound, not a speed test
			}
			if got.code != 1 {
				t.Errorf("exit code %d, want 1\n%s", got.code, got.stderr)
			}
			const pkg = "example.com/fixture/crash/hangmid"
			diffOutcomes(t, map[string][]string{
				pkg + " TestFirst":  {"pass"},
				pkg + " TestHangA":  {"fail"},
				pkg + " TestHangB":  {"fail"},
				pkg + " TestLast":   {"pass"},
				pkg + " TestLaster": {"pass"},
				pkg + " ":           {"fail"},
			}, outcomes(t, got.stdout))
		})
	}
}

// A test that ignores SIGQUIT is killed a WaitDelay after it, reported
// failed with its output and a reason that says so.
func TestIgnoredQuitIsKilled(t *testing.T) {
	t.Parallel() // waits on deadlines or a cross build: beside TestKillTimeoutAsGoTest
	dir := fixture(t, "crash")
	for _, mode := range [][]string{{"-n", "1"}, {"--dist", "no"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			got := runGodist(t, dir, append(append([]string{"-json"}, mode...), "--test-timeout", "1s", "./ignorequit/")...)
			const pkg = "example.com/fixture/crash/ignorequit"
			diffOutcomes(t, map[string][]string{
				pkg + " TestBefore":      {"pass"},
				pkg + " TestIgnoresQuit": {"fail"},
				pkg + " TestAfter":       {"pass"},
				pkg + " ":                {"fail"},
			}, outcomes(t, got.stdout))
			for _, want := range []string{"ignoring SIGQUIT", "did not stop on SIGQUIT, killed 5s later"} {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, got.stdout)
				}
			}
		})
	}
}

// A child holding the test binary's stdout: go test fails the package
// after its WaitDelay; so does godist, in the same words, locally and on
// workers.
func TestIOIncompleteAsGoTest(t *testing.T) {
	t.Parallel() // waits on deadlines or a cross build: beside TestKillTimeoutAsGoTest
	dir := fixture(t, "crash")
	// With -timeout 5s go test's WaitDelay is 5s (d/10, at least 5s); the
	// child holds stdout for 20s.
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "-timeout", "5s", "./holdstdout/")
	if !strings.Contains(want.stdout, "Test I/O incomplete") {
		t.Fatalf("go test did not report the incomplete I/O:\n%s", want.stdout)
	}
	for _, mode := range [][]string{{"-n", "1"}, {"--dist", "no"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			got := runGodist(t, dir, append(append([]string{"-json"}, mode...), "-timeout", "5s", "./holdstdout/")...)
			if got.code != 1 {
				t.Errorf("exit code %d, want 1 as go test", got.code)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
			for _, line := range []string{"*** Test I/O incomplete 5s after exiting.", "exec: WaitDelay expired before I/O complete"} {
				if !strings.Contains(got.stdout, line) {
					t.Errorf("output lacks %q", line)
				}
			}
		})
	}
}

// A TestMain that hangs before m.Run: go test's kill timeout (-timeout
// plus a minute) ends the binary; godist's does too, with go test's words.
func TestKillTimeoutAsGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for go test's kill timeout: a minute")
	}
	t.Parallel()
	dir := fixture(t, "crash")
	type run struct {
		name string
		args []string
	}
	runs := []run{{"go test", nil}, {"-n 1", []string{"-n", "1"}}, {"--dist no", []string{"--dist", "no"}}}
	results := make([]result, len(runs))
	done := make(chan int)
	for i, r := range runs {
		go func() {
			if r.args == nil {
				results[i] = runIn(t, dir, nil, "go", "test", "-json", "-count=1", "-timeout", "1s", "./mainhang/")
			} else {
				results[i] = runGodist(t, dir, append(append([]string{"-json"}, r.args...), "-timeout", "1s", "./mainhang/")...)
			}
			done <- i
		}()
	}
	for range runs {
		<-done
	}
	want := results[0]
	if !strings.Contains(want.stdout, "ran too long (1m1s)") {
		t.Fatalf("go test did not kill the binary as expected:\n%s", want.stdout)
	}
	for i, r := range runs[1:] {
		got := results[i+1]
		if got.code != 1 {
			t.Errorf("%s: exit code %d, want 1", r.name, got.code)
		}
		diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
		if !strings.Contains(got.stdout, "*** Test killed with quit: ran too long (1m1s).") {
			t.Errorf("%s: output lacks go test's kill line", r.name)
		}
	}
}

// A test that kills the process that started it (its worker, or go test
// on the go test path) fails with its output; the tests beside it pass,
// each reported once, and the run ends (issue 13). go test itself dies
// with such a test; godist guards the test binaries it runs itself, and
// on workers those of a package that lost a worker.
func TestParentKillerFails(t *testing.T) {
	t.Parallel()
	dir := fixture(t, "crash")
	hist := filepath.Join(t.TempDir(), "h.json")
	for _, mode := range [][]string{{"-n", "1"}, {"-n", "2"}, {"--dist", "no"}, {"-n", "2", "again"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			h := filepath.Join(t.TempDir(), "h.json")
			if mode[len(mode)-1] == "again" {
				// The second run on one history: small packages take the
				// go test path, whose go test the test kills.
				mode, h = mode[:len(mode)-1], hist
				runIn(t, dir, nil, godist(t), append(append([]string{"--history", h}, mode...), "./killparent/")...)
			}
			again := h == hist
			start := time.Now()
			args := append(append([]string{"--history", h, "-json"}, mode...), "./killparent/")
			got := runIn(t, dir, nil, godist(t), args...)
			if d := time.Since(start); d > 2*time.Minute {
				t.Errorf("run took %v", d) // a liveness bound, not a speed test
			}
			if got.code != 1 {
				t.Errorf("exit code %d, want 1\n%s", got.code, got.stderr)
			}
			const pkg = "example.com/fixture/crash/killparent"
			diffOutcomes(t, map[string][]string{
				pkg + " TestA":          {"pass"},
				pkg + " TestKillParent": {"fail"},
				pkg + " TestC":          {"pass"},
				pkg + " TestD":          {"pass"},
				pkg + " ":               {"fail"},
			}, outcomes(t, got.stdout))
			if again && !strings.Contains(got.stderr, "go test: signal: killed") {
				t.Errorf("the go test path did not run (or its go test was not killed):\n%s", got.stderr)
			}
			for _, want := range []string{"killing my parent", "the test binary's parent, godist's guard, was killed"} {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, got.stdout)
				}
			}
		})
	}
}

// A failing test that prints more than godist holds in memory (issue
// 13): the text is go test's, byte for byte but for durations and the
// worker lines, on workers and in the controller.
func TestBigOutputAsGoTest(t *testing.T) {
	t.Parallel()
	dir := fixture(t, "crash")
	want := runIn(t, dir, nil, "go", "test", "-count=1", "./bigoutput/")
	for _, mode := range [][]string{{"-n", "2"}, {"--dist", "no"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			got := runGodist(t, dir, append(mode, "./bigoutput/")...)
			if got.code != want.code {
				t.Errorf("exit code %d, go test's %d", got.code, want.code)
			}
			w, g := durations.ReplaceAllString(want.stdout, "D"), durations.ReplaceAllString(got.stdout, "D")
			if len(w) < 10<<20 || g != w {
				i := 0
				for i < min(len(g), len(w)) && g[i] == w[i] {
					i++
				}
				t.Errorf("text differs from go test's at byte %d of %d (go test's %d):\n%q\ngo test:\n%q",
					i, len(g), len(w), g[max(0, i-100):min(len(g), i+200)], w[max(0, i-100):min(len(w), i+200)])
			}
		})
	}
}
