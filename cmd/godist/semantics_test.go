package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A test that runs tests of its own with testing.RunTests (testify's suite
// package does, on purpose): the nested --- FAIL lines do not fail the
// package, in any mode, as under go test.
func TestNestedTestRunsAsGoTest(t *testing.T) {
	dir := fixture(t, "semantics")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./nested/")
	if want.code != 0 {
		t.Fatalf("go test failed the nested package:\n%s", want.stdout)
	}
	for _, mode := range [][]string{{"-n", "1"}, {"-n", "2"}, {"--dist", "no"}, {"--dist", "loadpkg"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			got := runGodist(t, dir, append(append([]string{"-json"}, mode...), "./nested/")...)
			if got.code != 0 {
				t.Errorf("exit code %d, want 0 as go test\n%s", got.code, got.stderr)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
		})
	}
}

// -failfast is per package binary: the failing package runs nothing after
// its failure, other packages run and pass, as under go test.
func TestFailfastPerPackage(t *testing.T) {
	dir := fixture(t, "semantics")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "-failfast", "./failfast/a/")
	for _, mode := range [][]string{{"-n", "1"}, {"--dist", "no"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			got := runGodist(t, dir, append(append([]string{"-json", "-failfast"}, mode...), "./failfast/...")...)
			if got.code != 1 {
				t.Errorf("exit code %d, want 1", got.code)
			}
			g := outcomes(t, got.stdout)
			a := map[string][]string{}
			for k, v := range g {
				if strings.HasPrefix(k, "example.com/fixture/semantics/failfast/a ") {
					a[k] = v
				}
			}
			diffOutcomes(t, outcomes(t, want.stdout), a)
			for _, k := range []string{"b ", "b TestB1", "b TestB2", "b TestB3"} {
				if v := g["example.com/fixture/semantics/failfast/"+k]; len(v) != 1 || v[0] != "pass" {
					t.Errorf("%s: %v, want pass", k, v)
				}
			}
		})
	}
}

// -timeout D budgets the package's binary: go test's panics in the third
// 400 ms test at -timeout 1s, that test gets no result and the later ones
// never run. godist's processes of the package share D: at -n 1 the
// outcomes are go test's exactly; at -n 3 the package fails the same way,
// with no invented test failures and no "exited with status 2" reasons.
func TestTimeoutBudgetAsGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 400 ms tests into a 1 s timeout")
	}
	dir := fixture(t, "semantics")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "-timeout", "1s", "./timeout/")
	if want.code != 1 {
		t.Fatalf("go test exit %d, want 1", want.code)
	}
	for _, n := range []string{"1", "3"} {
		t.Run("n"+n, func(t *testing.T) {
			got := runGodist(t, dir, "-json", "-n", n, "-timeout", "1s", "./timeout/")
			if got.code != 1 {
				t.Errorf("exit %d, want 1\n%s", got.code, got.stderr)
			}
			g := outcomes(t, got.stdout)
			if n == "1" {
				diffOutcomes(t, outcomes(t, want.stdout), g)
			}
			if v := g["example.com/fixture/semantics/timeout "]; len(v) != 1 || v[0] != "fail" {
				t.Errorf("package %v, want [fail]", v)
			}
			for k, v := range g {
				if strings.HasSuffix(k, " ") {
					continue
				}
				if slices.Contains(v, "fail") {
					t.Errorf("%s: %v: go test gives a timed-out test no result", k, v)
				}
			}
			if !strings.Contains(got.stdout, `panic: test timed out after 1s\n`) {
				t.Errorf("no go test panic line naming the package's -timeout")
			}
			if strings.Contains(got.stdout, "exited with status") {
				t.Errorf("an invented exit-status reason:\n%s", got.stdout)
			}
		})
	}
}

// A package's outcome is its test binary's exit status, as go test judges
// it: a TestMain that ignores m.Run's result and exits 0 passes its
// package although a test failed; one that exits 1 after every test
// passed (a leak check) fails it. Text and outcomes as go test's, on
// workers, in one process, without workers, and on the go test path (the
// second run, when the history knows the suite is tiny).
func TestTestMainExitStatusAsGoTest(t *testing.T) {
	dir := fixture(t, "testmain")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./...")
	wantText := runIn(t, dir, nil, "go", "test", "-count=1", "./...")
	if want.code != 1 || !strings.Contains(wantText.stdout, "ok  \texample.com/fixture/testmain/exitzero") {
		t.Fatalf("go test: exit %d, want 1 with exitzero ok:\n%s", want.code, wantText.stdout)
	}
	hist := filepath.Join(t.TempDir(), "h.json")
	for _, mode := range [][]string{{"-n", "2"}, {"-n", "1"}, {"--dist", "no"}, {"--history", hist}, {"--history", hist}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			args := append(slices.Clone(mode), "-count=1", "./...")
			got := runGodist(t, dir, append([]string{"-json"}, args...)...)
			if got.code != want.code {
				t.Errorf("exit code %d, want %d\n%s", got.code, want.code, got.stderr)
			}
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
			text := runGodist(t, dir, args...)
			if g, w := durations.ReplaceAllString(text.stdout, "X"), durations.ReplaceAllString(wantText.stdout, "X"); g != w {
				t.Errorf("text:\n%s\nwant go test's:\n%s", g, w)
			}
		})
	}
}

// Test flags in GOFLAGS (-count, -run, -v) apply as under go test, and the
// command line overrides them.
func TestGOFLAGSTestFlags(t *testing.T) {
	dir := fixture(t, "basic")
	for _, tc := range []struct{ goflags, args []string }{
		{[]string{"GOFLAGS=-count=2 -run=TestOne -v"}, []string{"./pass/"}},
		{[]string{"GOFLAGS=-run=TestOne -v -mod=readonly"}, []string{"-count=1", "-run", "TestTwo", "-v=false", "./pass/"}},
	} {
		t.Run(strings.Join(append(tc.goflags, tc.args...), " "), func(t *testing.T) {
			want := runIn(t, dir, tc.goflags, "go", append([]string{"test"}, tc.args...)...)
			hist := filepath.Join(t.TempDir(), "h.json")
			got := runIn(t, dir, tc.goflags, godist(t), append([]string{"--history", hist, "--worker-attr=false"}, tc.args...)...)
			if got.code != want.code {
				t.Errorf("exit code %d, want %d\n%s", got.code, want.code, got.stderr)
			}
			if g, w := durations.ReplaceAllString(got.stdout, "X"), durations.ReplaceAllString(want.stdout, "X"); g != w {
				t.Errorf("output:\n%s\nwant go test's:\n%s", g, w)
			}
		})
	}
}
