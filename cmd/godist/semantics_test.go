package main

import (
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
