package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Suites that were never written to run beside themselves (issue 21):
// fixed ports, counter-assigned 127.0.0.N addresses, a scratch file in the
// package directory, order-dependent tests, a TestMain that counts its
// runs, and a test that fails however it runs. godist's outcome is go
// test's for every test, on a first run (no history) and on the next, at
// -n 4 and -n 8: a failure beside other processes of the package counts
// only when a run as go test runs it repeats it. The always-failing test
// is reported failed exactly once.
func TestSharedStateOutcomesAsGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the isolation fixtures four times")
	}
	dir := fixture(t, "isolation")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./...")
	if want.code != 1 {
		t.Fatalf("go test exit %d, want 1 (alwaysfail)\n%s", want.code, want.stderr)
	}
	for _, n := range []string{"4", "8"} {
		hist := filepath.Join(t.TempDir(), "history.json")
		for _, run := range []string{"first", "second"} {
			t.Run(fmt.Sprintf("n%s/%s", n, run), func(t *testing.T) {
				got := runIn(t, dir, nil, godist(t), "--history", hist, "-n", n, "-json", "./...")
				if got.code != want.code {
					t.Errorf("exit %d, go test %d\n%s", got.code, want.code, got.stderr)
				}
				g := outcomes(t, got.stdout)
				if fails := g["example.com/fixture/isolation/alwaysfail TestAlwaysFails"]; len(fails) != 1 || fails[0] != "fail" {
					t.Errorf("TestAlwaysFails reported %v, want [fail] once", fails)
				}
				diffOutcomes(t, lastOutcomes(outcomes(t, want.stdout)), lastOutcomes(g))
			})
		}
	}
}

// lastOutcomes keeps each test's last outcome: a failure that a run as go
// test runs it did not repeat is followed by that run's pass.
func lastOutcomes(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		if strings.HasSuffix(k, " ") || len(v) == 0 {
			out[k] = v // package results appear once
			continue
		}
		out[k] = v[len(v)-1:]
	}
	return out
}
