package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
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

// A -run or -skip that is not a valid pattern is the test binaries' to
// report, as under go test: each package fails with the testing package's
// message, exit status 1 (not a usage error of godist's).
func TestBadPatternAsGoTest(t *testing.T) {
	dir := fixture(t, "basic")
	for _, args := range [][]string{
		{"-run", "[", "./pass/", "./nottests/", "./fail/"},
		{"-run=TestOne/[", "-v", "./pass/"},
		{"-json", "-skip=(", "./pass/"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := runIn(t, dir, nil, "go", append([]string{"test", "-count=1"}, args...)...)
			got := runGodist(t, dir, append([]string{"-n", "2"}, args...)...)
			if got.code != want.code || want.code != 1 {
				t.Errorf("exit code %d, go test %d\n%s", got.code, want.code, got.stderr)
			}
			clean := func(s string) string {
				return jsonTimes.ReplaceAllString(durations.ReplaceAllString(s, "X"), "")
			}
			if g, w := clean(got.stdout), clean(want.stdout); g != w {
				t.Errorf("output:\n%s\nwant go test's:\n%s", g, w)
			}
		})
	}
}

// jsonTimes matches the times of -json events, which no two runs share.
var jsonTimes = regexp.MustCompile(`"Time":"[^"]*",|,"Elapsed":[0-9.]+`)

// -json -v is go test -json -v's stream: each subtest's `--- PASS:` header,
// indented by depth, and its result event come after its parent's header,
// at the end of the top-level test, deepest last (the testing package's
// held output as test2json reads it), not as each subtest ends.
func TestJSONVerboseAsGoTest(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		pkgs    []string
	}{
		{"subtests", []string{"./dup/", "./suite/", "./table/", "./names/"}},
		{"basic", []string{"./names/", "./skip/", "./fail/"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			dir := fixture(t, tc.fixture)
			want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-v", "-count=1"}, tc.pkgs...)...)
			wantShape := verboseShape(t, want.stdout)
			if len(wantShape) == 0 {
				t.Fatalf("go test -json -v gave no tests:\n%s", want.stdout)
			}
			for _, mode := range [][]string{{"-n", "2"}, {"-n", "1"}} {
				got := runGodist(t, dir, append(append([]string{"-json", "-v", "-count=1"}, mode...), tc.pkgs...)...)
				if got.code != want.code {
					t.Errorf("%v: exit code %d, want %d\n%s", mode, got.code, want.code, got.stderr)
				}
				gotShape := verboseShape(t, got.stdout)
				for key, w := range wantShape {
					if g := gotShape[key]; !slices.Equal(g, w) {
						t.Errorf("%v: %s:\n%s\nwant go test's:\n%s", mode, key, strings.Join(g, "\n"), strings.Join(w, "\n"))
					}
				}
				for key, g := range gotShape {
					if _, ok := wantShape[key]; ok {
						continue
					}
					// go test -json -v loses the result of a test whose
					// output ended without a newline before its header
					// (test2json finds no header at a line's start);
					// godist keeps it, once.
					if key == "example.com/fixture/basic/fail TestFatalNoNewline" && slices.Equal(g, []string{"TestFatalNoNewline --- FAIL: TestFatalNoNewline (X)", "TestFatalNoNewline fail"}) {
						continue
					}
					t.Errorf("%v: %s: not in go test's stream: %q", mode, key, g)
				}
			}
		})
	}
}

// verboseShape is, for each top-level test of a -json stream, the headers
// and result events of its tree in stream order, durations blanked.
func verboseShape(t *testing.T, stream string) map[string][]string {
	t.Helper()
	shape := map[string][]string{}
	for _, line := range strings.Split(stream, "\n") {
		if line == "" {
			continue
		}
		var e struct{ Action, Package, Test, Output string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON event: %q", line)
		}
		if e.Test == "" {
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		key := e.Package + " " + top
		switch {
		case e.Action == "output" && headerLine.MatchString(e.Output):
			shape[key] = append(shape[key], e.Test+" "+durations.ReplaceAllString(strings.TrimSuffix(e.Output, "\n"), "X"))
		case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
			shape[key] = append(shape[key], e.Test+" "+e.Action)
		}
	}
	return shape
}

var headerLine = regexp.MustCompile(`^ *--- (PASS|FAIL|SKIP): `)

// -cover prints the coverage of the package, as go test does, when godist
// ran it as several processes: the merge of their profiles, not one
// process's figure, with what the processes a test starts covered
// ($GOCOVERDIR) counted (issue 12). First run and a second, split by
// history.
func TestCoverAsGoTest(t *testing.T) {
	t.Parallel()
	dir := fixture(t, "coverage")
	for _, flags := range [][]string{{"-cover"}, {"-covermode=count"}} {
		want := runIn(t, dir, nil, "go", append(append([]string{"test", "-count=1"}, flags...), "./...")...)
		hist := filepath.Join(t.TempDir(), "h.json")
		for _, run := range []string{"first", "second"} {
			t.Run(strings.Join(flags, " ")+" "+run, func(t *testing.T) {
				got := runIn(t, dir, nil, godist(t), append(append([]string{"--history", hist, "-n", "4"}, flags...), "./...")...)
				w, g := durations.ReplaceAllString(want.stdout, "D"), durations.ReplaceAllString(got.stdout, "D")
				if got.code != want.code || g != w || !strings.Contains(w, "coverage: 73.3% of statements") {
					t.Errorf("exit %d (go test %d)\n--- godist\n%s--- go test\n%s", got.code, want.code, g, w)
				}
			})
		}
	}
}
