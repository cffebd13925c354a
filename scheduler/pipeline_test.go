package scheduler

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/gotool"
)

// localExecutor runs units as real processes on this machine, the way a
// popen worker on the same file system does, and reports which of the
// unit's tests never started.
type localExecutor struct {
	filter *Filter
	hist   *History // nil: record nothing

	mu      sync.Mutex
	bins    map[string]string // import path -> binary
	started map[string]int    // "pkg.Test" -> starts
	procs   int
}

func (e *localExecutor) setBinary(ip, bin string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bins[ip] = bin
}

func (e *localExecutor) Execute(ctx context.Context, w int, u *Unit) ([]string, error) {
	e.mu.Lock()
	bin := e.bins[u.Pkg.ImportPath]
	e.procs++
	e.mu.Unlock()
	args := []string{"-test.v=test2json", "-test.paniconexit0", "-test.run=" + e.filter.RunArg(u.Tests)}
	if s := e.filter.SkipArg(); s != "" {
		args = append(args, "-test.skip="+s)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = u.Pkg.Dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	procStart := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// A minimal stand-in for the collector: run and pass/fail events with
	// the time each line arrived, enough to feed the history.
	var began []string
	var events []collector.Event
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		now := time.Now()
		line := strings.TrimPrefix(sc.Text(), "\x16")
		if name, ok := strings.CutPrefix(line, "=== RUN   "); ok {
			events = append(events, collector.Event{Time: &now, Action: "run", Test: name})
			if !strings.Contains(name, "/") {
				began = append(began, name)
			}
			continue
		}
		for _, verb := range []string{"--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
			rest, ok := strings.CutPrefix(strings.TrimSpace(line), verb)
			if !ok {
				continue
			}
			name, secs, _ := strings.Cut(rest, " (")
			var el float64
			fmt.Sscanf(secs, "%fs)", &el)
			events = append(events, collector.Event{Time: &now, Action: "pass", Test: name, Elapsed: &el})
		}
	}
	cmd.Wait() // a failing or crashing test is the collector's business
	if e.hist != nil {
		e.hist.Record(u.Pkg.ImportPath, ResultFromEvents(procStart, events))
	}
	e.mu.Lock()
	for _, n := range began {
		e.started[u.Pkg.ImportPath+"."+n]++
	}
	e.mu.Unlock()
	notRun := []string{}
	for _, n := range u.Tests {
		if !slices.Contains(began, n) {
			notRun = append(notRun, n)
		}
	}
	return notRun, ctx.Err()
}

// runPipeline wires load → discover/select → plan → build → dispatch as
// cmd/godist does, with local processes as workers.
// It returns the executor's record, the plan, the total time and the time
// from the first binary being ready to the end.
func runPipeline(t *testing.T, patterns, buildFlags []string, run, skip string, workers int, hist *History) (*localExecutor, []*Unit, time.Duration, time.Duration) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	pkgs, err := gotool.Load(ctx, gotool.LoadConfig{Dir: fixtureDir(t), Patterns: patterns, BuildFlags: buildFlags, Env: fixtureEnv()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFilter(run, skip)
	if err != nil {
		t.Fatal(err)
	}
	var pts []*PackageTests
	for _, p := range pkgs {
		pt, err := Discover(p)
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, pt.Select(f))
	}
	units := Plan(pts, hist, workers, PlanOptions{})
	byPkg := map[string][]*Unit{}
	for _, u := range units {
		byPkg[u.Pkg.ImportPath] = append(byPkg[u.Pkg.ImportPath], u)
	}
	e := &localExecutor{filter: f, hist: hist, bins: map[string]string{}, started: map[string]int{}}
	d := NewDispatcher(DispatchOptions{})
	out := t.TempDir()
	var reqs []gotool.BuildRequest
	for _, p := range pkgs {
		reqs = append(reqs, gotool.BuildRequest{Pkg: p, Dir: fixtureDir(t), OutDir: out, BuildFlags: buildFlags, Env: fixtureEnv()})
	}
	var firstReady time.Time
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer d.CloseAdd()
		gotool.BuildAll(ctx, reqs, 0, func(r gotool.BuildResult) {
			if r.Err != nil {
				t.Errorf("build %s: %v\n%s", r.Pkg.ImportPath, r.Err, r.Output)
				return
			}
			if firstReady.IsZero() {
				firstReady = time.Now() // done calls are serialised
			}
			e.setBinary(r.Pkg.ImportPath, r.Binary)
			d.Add(byPkg[r.Pkg.ImportPath]...)
		})
	}()
	left, err := d.Run(ctx, workers, e)
	wg.Wait()
	if err != nil || len(left) > 0 {
		t.Fatalf("run: %v, left %v", err, left)
	}
	return e, units, time.Since(start), time.Since(firstReady)
}

func TestPipelineCrashRequeue(t *testing.T) {
	e, _, _, _ := runPipeline(t, []string{"./crash", "./b/...", "./withmain"}, nil, "", "", 2, nil)
	want := map[string]int{
		"example.com/mod/crash.TestOK1": 1, "example.com/mod/crash.TestCrash": 1,
		"example.com/mod/crash.TestOK2": 1, "example.com/mod/crash.TestOK3": 1,
		"example.com/mod/b/util.TestB": 1, "example.com/mod/withmain.TestOne": 1,
	}
	for k, n := range want {
		if e.started[k] != n {
			t.Errorf("%s started %d times", k, e.started[k])
		}
	}
	if len(e.started) != len(want) {
		t.Errorf("started %v", e.started)
	}
}

func TestPipelineSlowPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2s of sleeping tests")
	}
	ctx := context.Background()
	// Baseline: go test's way, one process running the package's tests in
	// sequence (binary prebuilt, so only running is compared).
	pkg := fixturePkgs(t)["example.com/mod/slow"]
	r := gotool.Build(ctx, gotool.BuildRequest{Pkg: pkg, Dir: fixtureDir(t), OutDir: t.TempDir(), Env: fixtureEnv()})
	if r.Err != nil {
		t.Fatal(r.Err, r.Output)
	}
	t0 := time.Now()
	if out, err := exec.Command(r.Binary, "-test.v=test2json").CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	seq := time.Since(t0)

	hist := NewHistory("")
	e, units, total, running := runPipeline(t, []string{"./slow"}, nil, "", "", 8, hist)
	if len(e.started) != 8 {
		t.Fatalf("started %v", e.started)
	}
	t.Logf("one process: %v; %d units on 8 local workers: %v from the binary being ready, %v with load+build",
		seq.Round(time.Millisecond), len(units), running.Round(time.Millisecond), total.Round(time.Millisecond))
	if running > seq/2 {
		t.Errorf("pipeline ran for %v, one process for %v", running, seq)
	}
}

func TestPipelineSubtestPattern(t *testing.T) {
	// Vet off: package a keeps names vet rejects on purpose.
	e, _, _, _ := runPipeline(t, []string{"./a"}, []string{"-vet=off"}, "TestA/sub|TestB", "TestB1", 3, nil)
	// "TestA" matches TestA, TestAB, TestA_B (not TestÄ); TestB1 is skipped.
	want := []string{"example.com/mod/a.TestA", "example.com/mod/a.TestAB", "example.com/mod/a.TestA_B"}
	var got []string
	for k := range e.started {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("started %q, want %q", got, want)
	}
}

func TestPipelineTinyTests(t *testing.T) {
	if testing.Short() {
		t.Skip("timing figures")
	}
	ctx := context.Background()
	pkg := fixturePkgs(t)["example.com/mod/tiny"]
	r := gotool.Build(ctx, gotool.BuildRequest{Pkg: pkg, Dir: fixtureDir(t), OutDir: t.TempDir(), Env: fixtureEnv()})
	if r.Err != nil {
		t.Fatal(r.Err, r.Output)
	}
	t0 := time.Now()
	if out, err := exec.Command(r.Binary, "-test.v=test2json").CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	seq := time.Since(t0)
	hist := NewHistory("")
	for run := 1; run <= 2; run++ {
		e, units, _, running := runPipeline(t, []string{"./tiny"}, nil, "", "", 8, hist)
		if len(e.started) != 300 {
			t.Fatalf("run %d: %d tests started", run, len(e.started))
		}
		t.Logf("run %d: %d units, %d processes, %v from the binary being ready (one process: %v)",
			run, len(units), e.procs, running.Round(time.Millisecond), seq.Round(time.Millisecond))
		if run == 2 && len(units) > 2 {
			t.Errorf("with history, %d units for 300 tiny tests", len(units))
		}
	}
}
