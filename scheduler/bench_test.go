package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/godist/godist/gotool"
)

// benchWorld is 100 packages of 1000 tests each (100 000 tests) with a
// history for every test.
func benchWorld() ([]*PackageTests, *History) {
	h := NewHistory("")
	var pkgs []*PackageTests
	for p := range 100 {
		ip := fmt.Sprintf("example.com/p%03d", p)
		names := seqNames("Test", 1000)
		pkgs = append(pkgs, fakePkg(ip, names...))
		var rs []TestResult
		for i, n := range names {
			rs = append(rs, TestResult{n, time.Duration(1+(i*7919+p)%500) * time.Millisecond})
		}
		h.Record(ip, ProcessResult{Startup: 20 * time.Millisecond, Tests: rs})
	}
	return pkgs, h
}

// BenchmarkPlan100k plans 100 000 tests for 64 workers.
func BenchmarkPlan100k(b *testing.B) {
	pkgs, h := benchWorld()
	b.ResetTimer()
	for b.Loop() {
		Plan(pkgs, h, 64, PlanOptions{})
	}
	b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "tests/s")
}

// BenchmarkDispatch100k dispatches 100 000 single-test units to 8 workers
// whose executor returns at once: the cost of a scheduling decision
// (queue pop, bookkeeping, push of the result) including lock contention.
func BenchmarkDispatch100k(b *testing.B) {
	const n = 100000
	units := make([]*Unit, n)
	pkg := &gotool.Package{ImportPath: "p"}
	for i := range units {
		units[i] = &Unit{ID: i, Pkg: pkg, Tests: []string{"T"}, TestEstimates: []time.Duration{time.Duration(i % 977)}, Estimate: time.Duration(i % 977)}
	}
	exec := ExecutorFunc(func(context.Context, int, *Unit) ([]string, error) { return nil, nil })
	b.ResetTimer()
	for b.Loop() {
		d := NewDispatcher(DispatchOptions{})
		d.Add(units...)
		d.CloseAdd()
		if left, err := d.Run(context.Background(), 8, exec); err != nil || len(left) > 0 {
			b.Fatal(err, left)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkRunArg100k builds anchored patterns for batches covering 100 000
// names under a two-level -run.
func BenchmarkRunArg100k(b *testing.B) {
	f, err := NewFilter("Test/sub", "")
	if err != nil {
		b.Fatal(err)
	}
	names := seqNames("Test", 100000)
	for b.Loop() {
		for i := 0; i < len(names); i += 100 {
			f.RunArg(names[i : i+100])
		}
	}
	b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "names/s")
}
