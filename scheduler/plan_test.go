package scheduler

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/godist/godist/gotool"
)

// fakePkg makes a PackageTests with n tests named prefix0..prefixN-1.
func fakePkg(ip string, names ...string) *PackageTests {
	pt := &PackageTests{Pkg: &gotool.Package{ImportPath: ip, TestGoFiles: []string{"x_test.go"}}}
	for _, n := range names {
		pt.Funcs = append(pt.Funcs, TestFunc{Name: n, Kind: KindTest})
	}
	return pt
}

func seqNames(prefix string, n int) []string {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("%s%03d", prefix, i))
	}
	return names
}

// simulate runs units through a real Dispatcher whose executor sleeps for
// the true cost of each unit (startup + durations of its tests) in a
// synctest bubble, and returns the makespan.
func simulate(t *testing.T, units []*Unit, workers int, startup time.Duration, dur func(pkg, test string) time.Duration) time.Duration {
	t.Helper()
	var makespan time.Duration
	synctest.Test(t, func(t *testing.T) {
		d := NewDispatcher(DispatchOptions{})
		d.Add(units...)
		d.CloseAdd()
		start := time.Now()
		left, err := d.Run(context.Background(), workers, ExecutorFunc(func(ctx context.Context, w int, u *Unit) ([]string, error) {
			cost := startup
			for _, n := range u.Tests {
				cost += dur(u.Pkg.ImportPath, n)
			}
			time.Sleep(cost)
			return nil, nil
		}))
		if err != nil || len(left) > 0 {
			t.Fatalf("Run: %v, left %v", err, left)
		}
		makespan = time.Since(start)
	})
	return makespan
}

func countTests(units []*Unit) map[string]int {
	m := map[string]int{}
	for _, u := range units {
		for _, n := range u.Tests {
			m[u.Pkg.ImportPath+"."+n]++
		}
	}
	return m
}

func checkEachOnce(t *testing.T, units []*Unit, pkgs []*PackageTests) {
	t.Helper()
	got := countTests(units)
	n := 0
	for _, pt := range pkgs {
		for _, name := range pt.Names() {
			n++
			if c := got[pt.Pkg.ImportPath+"."+name]; c != 1 {
				t.Errorf("%s.%s planned %d times", pt.Pkg.ImportPath, name, c)
			}
		}
	}
	if len(got) != n {
		t.Errorf("%d distinct tests planned, want %d", len(got), n)
	}
	for i := 1; i < len(units); i++ {
		if units[i].Estimate > units[i-1].Estimate {
			t.Fatalf("units not longest first at %d", i)
		}
	}
}

func TestPlanSlowSequentialWithHistory(t *testing.T) {
	// 16 tests of 0.5 s on 8 workers: the optimum is 1 s.
	pt := fakePkg("slow", seqNames("TestSlow", 16)...)
	h := NewHistory("")
	var rs []TestResult
	for _, n := range pt.Names() {
		rs = append(rs, TestResult{n, 500 * time.Millisecond})
	}
	h.Record("slow", ProcessResult{Startup: 5 * time.Millisecond, Tests: rs})
	units := Plan([]*PackageTests{pt}, h, 8, PlanOptions{})
	checkEachOnce(t, units, []*PackageTests{pt})
	ms := simulate(t, units, 8, 5*time.Millisecond, func(string, string) time.Duration { return 500 * time.Millisecond })
	t.Logf("%d units, makespan %v", len(units), ms)
	if ms > 1020*time.Millisecond {
		t.Errorf("makespan %v, want ~1s", ms)
	}
}

func TestPlanNoHistorySplitsEvenly(t *testing.T) {
	pt := fakePkg("slow", seqNames("TestSlow", 16)...)
	units := Plan([]*PackageTests{pt}, nil, 8, PlanOptions{})
	checkEachOnce(t, units, []*PackageTests{pt})
	if len(units) < 8 {
		t.Fatalf("%d units for 8 workers", len(units))
	}
	for _, u := range units {
		if len(u.Tests) != len(units[0].Tests) {
			t.Errorf("uneven split: %d vs %d tests", len(u.Tests), len(units[0].Tests))
		}
	}
	ms := simulate(t, units, 8, 5*time.Millisecond, func(string, string) time.Duration { return 500 * time.Millisecond })
	if ms > 1020*time.Millisecond {
		t.Errorf("makespan %v, want ~1s", ms)
	}
}

func TestPlanTinyTestsAmortiseStartup(t *testing.T) {
	pt := fakePkg("tiny", seqNames("TestTiny", 500)...)
	h := NewHistory("")
	var rs []TestResult
	for _, n := range pt.Names() {
		rs = append(rs, TestResult{n, time.Millisecond})
	}
	h.Record("tiny", ProcessResult{Startup: 10 * time.Millisecond, Tests: rs})
	units := Plan([]*PackageTests{pt}, h, 8, PlanOptions{})
	checkEachOnce(t, units, []*PackageTests{pt})
	for _, u := range units {
		if work := u.Estimate - u.Startup; work < 10*u.Startup {
			t.Errorf("unit of %v work for %v start-up", work, u.Startup)
		}
		// Run order inside a unit is the package's.
		if !slices.IsSorted(u.Tests) {
			t.Errorf("unit out of order: %v", u.Tests)
		}
	}
	ms := simulate(t, units, 8, 10*time.Millisecond, func(string, string) time.Duration { return time.Millisecond })
	t.Logf("%d units, makespan %v (one process: %v)", len(units), ms, 510*time.Millisecond)
	if ms > 150*time.Millisecond {
		t.Errorf("makespan %v", ms)
	}
}

func TestPlanMixedLPT(t *testing.T) {
	// One 4 s test and 40 tests of 0.1 s in another package, 4 workers:
	// total 8 s, optimum 4 s.
	long := fakePkg("long", "TestLong", "TestShortToo")
	many := fakePkg("many", seqNames("TestM", 40)...)
	dur := func(pkg, test string) time.Duration {
		switch {
		case test == "TestLong":
			return 4 * time.Second
		case test == "TestShortToo":
			return 10 * time.Millisecond
		}
		return 100 * time.Millisecond
	}
	h := NewHistory("")
	for _, pt := range []*PackageTests{long, many} {
		var rs []TestResult
		for _, n := range pt.Names() {
			rs = append(rs, TestResult{n, dur(pt.Pkg.ImportPath, n)})
		}
		h.Record(pt.Pkg.ImportPath, ProcessResult{Startup: 5 * time.Millisecond, Tests: rs})
	}
	pkgs := []*PackageTests{long, many}
	units := Plan(pkgs, h, 4, PlanOptions{})
	checkEachOnce(t, units, pkgs)
	ms := simulate(t, units, 4, 5*time.Millisecond, dur)
	t.Logf("%d units, makespan %v", len(units), ms)
	if ms > 4200*time.Millisecond {
		t.Errorf("makespan %v, want ~4s", ms)
	}
	// Unknown tests get the package median.
	grown := fakePkg("many", append(seqNames("TestM", 40), "TestNew")...)
	for _, u := range Plan([]*PackageTests{grown}, h, 1, PlanOptions{}) {
		if i := slices.Index(u.Tests, "TestNew"); i >= 0 && u.TestEstimates[i] != 100*time.Millisecond {
			t.Errorf("TestNew estimate %v, want the median", u.TestEstimates[i])
		}
	}
}

func TestPlanLoadPkgAndEmpty(t *testing.T) {
	pkgs := []*PackageTests{fakePkg("p1", seqNames("TestA", 10)...), fakePkg("p2", "TestB"), fakePkg("p3")}
	units := Plan(pkgs, nil, 8, PlanOptions{Dist: DistLoadPkg})
	if len(units) != 3 {
		t.Fatalf("%d units, want one per package", len(units))
	}
	checkEachOnce(t, units, pkgs)
	for _, u := range units {
		if u.Pkg.ImportPath == "p3" && (len(u.Tests) != 0 || u.Estimate != 10*time.Millisecond) {
			t.Errorf("empty package unit %v", u)
		}
	}
	// Also with --dist load, the empty package keeps its unit.
	units = Plan(pkgs, nil, 8, PlanOptions{})
	checkEachOnce(t, units, pkgs)
	found := false
	for _, u := range units {
		found = found || u.Pkg.ImportPath == "p3"
	}
	if !found {
		t.Error("package with nothing selected lost its unit")
	}
}

func TestSplitContiguous(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	for _, tc := range []struct {
		ests []time.Duration
		k    int
		want [][2]int
	}{
		{nil, 3, [][2]int{{0, 0}}},
		{ms(1, 1, 1, 1), 1, [][2]int{{0, 4}}},
		{ms(1, 1, 1, 1), 2, [][2]int{{0, 2}, {2, 4}}},
		{ms(1, 1, 1, 1), 4, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}}},
		{ms(1, 50, 1, 1), 2, [][2]int{{0, 2}, {2, 4}}},
		{ms(50, 1, 1, 1), 3, [][2]int{{0, 1}, {1, 3}, {3, 4}}},
		{ms(1, 1, 1, 50), 3, [][2]int{{0, 2}, {2, 3}, {3, 4}}},
	} {
		if got := splitContiguous(tc.ests, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("splitContiguous(%v, %d) = %v, want %v", tc.ests, tc.k, got, tc.want)
		}
	}
}

func TestPlanPatternLengthCap(t *testing.T) {
	pt := fakePkg("huge", seqNames("TestSomewhatLongName", 20000)...)
	units := Plan([]*PackageTests{pt}, nil, 1, PlanOptions{})
	checkEachOnce(t, units, []*PackageTests{pt})
	total := 0
	for _, u := range units {
		total += len(u.Tests)
		if n := len(RunPattern(u.Tests)); n > 30000 {
			t.Errorf("pattern of %d bytes", n)
		}
	}
	if total != 20000 || len(units) < 2 {
		t.Errorf("%d units, %d tests", len(units), total)
	}
}

// A package marked whole runs as one unit, as go test runs it, until it
// has passed WholeCleanRuns times; then it splits again, and the mark
// survives a save and a load in between.
func TestPlanWholePackage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	h := NewHistory(path)
	pt := fakePkg("shared", seqNames("TestPort", 16)...)
	if units := Plan([]*PackageTests{pt}, h, 8, PlanOptions{}); len(units) < 2 {
		t.Fatalf("unmarked: %d units, want a split", len(units))
	}
	h.MarkWhole("shared", []string{"TestPort3"}, time.Now())
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for run := range WholeCleanRuns {
		units := Plan([]*PackageTests{pt}, h, 8, PlanOptions{})
		if len(units) != 1 || len(units[0].Tests) != 16 {
			t.Fatalf("marked, run %d: %d units, want the package whole", run, len(units))
		}
		rest, parts := SplitSubtests([]*PackageTests{pt}, h, 8, PlanOptions{})
		if len(parts) != 0 || len(rest) != 1 {
			t.Fatalf("marked: split below the top level")
		}
		h.NoteWholeRun("shared")
	}
	if h.Whole("shared") {
		t.Errorf("mark kept after %d clean runs", WholeCleanRuns)
	}
	if units := Plan([]*PackageTests{pt}, h, 8, PlanOptions{}); len(units) < 2 {
		t.Errorf("mark lifted: %d units, want a split again", len(units))
	}
}
