package run

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/bundle"
	"github.com/godist/godist/collector"
	"github.com/godist/godist/gotool"
	"github.com/godist/godist/internal/tmpdir"
	"github.com/godist/godist/isolate"
	"github.com/godist/godist/report"
	"github.com/godist/godist/scheduler"
)

// Run is one `godist [flags] [packages]`: it loads the packages, discovers
// and plans their tests, builds the test binaries while it starts the
// workers, dispatches the tests to them, and reports the merged results on
// stdout and stderr as go test would; then it records the durations in the
// history and writes the stats. It returns go test's exit status for the
// run. ctx ending stops the run: test processes are killed, what finished
// is reported, the rest is reported not run.
//
// The program that calls Run doubles as several helpers, as godist's main
// does: call isolate.MainIfShim, workers.MainIfGuard,
// gotool.MainIfBuildShim and gateway.MainIfWorker first thing in main
// (godist's main also calls its internal proc.MainIfWatchdog). Where one
// was not called, Run does without that helper (no guard, no watchdog,
// builds without go test -exec) rather than start a program that would
// run itself again.
func Run(ctx context.Context, cfg *Config, stdout, stderr io.Writer) int {
	r := &testRun{opts: cfg, stdout: stdout, stderr: stderr}
	return r.run(ctx)
}

// testRun is one `godist ./...`: load, build, plan, dispatch, collect, report.
type testRun struct {
	opts           *Config
	stdout, stderr io.Writer

	filter  *scheduler.Filter
	hist    *scheduler.History
	workDir string // test binaries and per-process scratch files
	runID   string // $GODIST_RUN_ID of every test process

	seq      *collector.Sequencer
	reorder  *collector.Reorderer // text mode only
	out      *report.Output
	status   *report.Status
	coverage *coverMerger
	lanes    []*lane
	pkgs     map[string]*pkgRun // by key as reported; the map is fixed once the output opens
	keys     []string           // pkgs' keys in report order
	progress *progress          // the live status line; nil when not on a terminal
	bundles  bundle.Set         // test bundles for workers on other filesystems

	stopScheduling func()
	dispatchCtx    context.Context // ends when scheduling stops
	cache          *resultCache    // nil: results are not cached (cache.go)
	cacheErr       sync.Once

	mu          sync.Mutex // guards what follows and pkgs' state (see update)
	stats       Stats
	started     time.Time
	busy        map[int]*workerUse    // per worker slot
	tally       testTally             // tests per worker, from the events (output.go)
	cross       map[string]*crossOnce // "pkg goos/goarch" -> its cross-built binary
	failedTests int                   // top-level test failures so far, for --maxfail
}

// lane is a set of worker slots with a queue of its own: one for the whole
// run, or, with --dist each, one per worker, whose packages are reported
// as PKG@gwN so that every worker's results stand apart.
type lane struct {
	suffix string // appended to package names: "" or "@gwN"
	slots  []int  // worker slots; nil: all of them
	d      *scheduler.Dispatcher
	units  map[string][]*scheduler.Unit // import path -> this lane's units
	left   []*scheduler.Unit
	err    error
}

func (r *testRun) eachMode() bool { return r.opts.Dist == DistEach }

// makeLanes makes one lane, or one per worker with --dist each.
func (r *testRun) makeLanes() []*lane {
	if !r.eachMode() {
		return []*lane{{}}
	}
	var lanes []*lane
	for w := range r.workerCount() {
		lanes = append(lanes, &lane{suffix: fmt.Sprintf("@gw%d", w), slots: []int{w}})
	}
	return lanes
}

func (r *testRun) run(ctx context.Context) int {
	r.started = time.Now()
	r.runID = newRunID()
	o := r.opts
	r.bundles.Extra = o.RsyncDirs
	if r.progress = newProgress(r.stdout, o); r.progress != nil {
		r.stdout, r.stderr = r.progress.wrap(r.stdout), r.progress.wrap(r.stderr)
	}
	var err error
	badFilter := false
	if r.filter, err = scheduler.NewFilter(o.Run, o.Skip); err != nil {
		// go test leaves a bad -run or -skip to the test binaries, which
		// fail their packages with the testing package's message: so does
		// godist, by running them all in one go test command.
		badFilter = true
		r.filter, _ = scheduler.NewFilter("", "")
	}
	pkgs, err := gotool.Load(ctx, gotool.LoadConfig{Patterns: o.Packages, BuildFlags: o.BuildFlags, Stderr: r.stderr})
	if errors.Is(err, gotool.ErrNoPackages) {
		fmt.Fprintln(r.stderr, gotool.ErrNoPackages) // go test's words
		return report.ExitFailed
	}
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: %v\n", err)
		return report.ExitFailed
	}
	tmpdir.SweepOnce("") // what killed runs and workers left behind
	workDir, err := tmpdir.Make("", "godist-run-")
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: %v\n", err)
		return report.ExitFailed
	}
	defer workDir.Remove()
	r.workDir = workDir.Path
	r.loadHistory()
	// Discover. Packages that cannot run get their whole stream at once (in
	// package order, thanks to the sequencer).
	var runnable []*scheduler.PackageTests
	runOrder := map[string][]string{}
	noTests := map[string]bool{}
	for _, p := range pkgs {
		switch {
		case p.Error != nil:
			// Build reports load errors in go test's words.
			runnable = append(runnable, &scheduler.PackageTests{Pkg: p})
		case !p.HasTests():
			noTests[p.ImportPath] = true
		default:
			pt, err := scheduler.Discover(p)
			if err != nil {
				// A setup problem the build will report in go's words.
				pt = &scheduler.PackageTests{Pkg: p}
			}
			pt = pt.Select(r.filter)
			if badFilter {
				// The binary selects nothing: it fails on the pattern.
				pt = &scheduler.PackageTests{Pkg: p}
			}
			for _, f := range pt.Funcs {
				runOrder[p.ImportPath] = append(runOrder[p.ImportPath], f.Name)
			}
			runnable = append(runnable, pt)
		}
	}
	var manifest []collector.Event
	if o.ShardCount > 1 {
		// Only this shard's tests; packages only where they have some.
		var plan scheduler.ShardPlan
		runnable, plan = scheduler.Shard(runnable, buildVersion(), o.ShardIndex, o.ShardCount)
		if len(pkgs) > 0 {
			manifest = shardManifest(pkgs[0].ImportPath, plan)
		}
		keep := map[string]bool{}
		for _, pt := range runnable {
			keep[pt.Pkg.ImportPath] = true
		}
		var kept []*gotool.Package
		for _, p := range pkgs {
			if keep[p.ImportPath] || (noTests[p.ImportPath] && o.ShardIndex == 0) {
				kept = append(kept, p)
			}
		}
		pkgs = kept
	}
	if o.Queue != "" {
		return r.runQueue(ctx, pkgs, runnable, noTests)
	}
	r.lanes = r.makeLanes()
	if err := r.openOutput(pkgs, runOrder); err != nil {
		fmt.Fprintf(r.stderr, "godist: %v\n", err)
		return report.ExitCode(err, nil)
	}
	for _, e := range manifest {
		r.out.Event(e)
	}
	for _, p := range pkgs {
		if noTests[p.ImportPath] {
			for _, ln := range r.lanes {
				r.pkgs[p.ImportPath+ln.suffix].merger.NoTestFiles()
			}
		}
	}
	if r.cache = r.openCache(ctx); r.cache != nil {
		runnable = r.replayCached(runnable)
		if len(runnable) == 0 {
			r.saveHistory()
			return r.end(ctx.Err())
		}
	}
	if badFilter || r.smallSuite(runnable) {
		again, err := r.runGoTest(ctx, runnable)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(r.stderr, "godist: %v; its unreported packages run on workers\n", err)
		}
		if len(again) == 0 {
			r.saveHistory()
			return r.end(ctx.Err())
		}
		if ctx.Err() != nil || badFilter {
			why := "godist: interrupted"
			if badFilter {
				why = "godist: go test did not report it"
			}
			for _, pt := range again {
				r.notRun(pt.Pkg.ImportPath, why, pt.Names())
			}
			return r.end(ctx.Err())
		}
		runnable = again
		for _, pt := range again {
			r.update(pt.Pkg.ImportPath, func(p *pkgRun) { p.resumed = true })
		}
	}
	units := r.plan(runnable)
	var total int
	var estimate time.Duration
	for _, u := range units {
		total += len(u.Tests)
		estimate += u.Estimate
	}
	r.progress.start(total*len(r.lanes), estimate*time.Duration(len(r.lanes)), r.workerCount())
	for _, ln := range r.lanes {
		// A rerun of failed tests comes back like a stall; let it.
		ln.d = scheduler.NewDispatcher(scheduler.DispatchOptions{MaxStalls: max(3, o.RerunFails+2)})
		ln.units = map[string][]*scheduler.Unit{}
		for _, u := range units {
			if ln.suffix != "" {
				c := *u // every lane runs its own copy
				u = &c
			}
			ln.units[u.Pkg.ImportPath] = append(ln.units[u.Pkg.ImportPath], u)
			r.update(u.Pkg.ImportPath+ln.suffix, func(p *pkgRun) { p.left++; p.waiting = true })
		}
	}
	// Longest work first: the first build group's packages start first.
	work := map[string]time.Duration{}
	for _, u := range units {
		work[u.Pkg.ImportPath] += u.Estimate
	}
	var reqs []gotool.BuildRequest
	for _, pt := range runnable {
		reqs = append(reqs, gotool.BuildRequest{Pkg: pt.Pkg, OutDir: r.workDir, BuildFlags: r.buildFlags()})
	}
	slices.SortStableFunc(reqs, func(a, b gotool.BuildRequest) int {
		return cmp.Compare(work[b.Pkg.ImportPath], work[a.Pkg.ImportPath])
	})
	// Packages with seconds of tests are worth a go command of their own,
	// to start early; the rest build together.
	early := 0
	for _, req := range reqs[:min(len(reqs), 4)] {
		if work[req.Pkg.ImportPath] >= 2*time.Second {
			early++
		}
	}
	// Builds and workers start together; each package's units are released
	// as soon as its binary is ready.
	buildCtx, cancelBuilds := context.WithCancel(ctx)
	defer cancelBuilds()
	buildStart := time.Now()
	var buildWG sync.WaitGroup
	buildWG.Add(1)
	go func() {
		defer buildWG.Done()
		defer func() {
			for _, ln := range r.lanes {
				ln.d.CloseAdd()
			}
		}()
		if shim, ok := gotool.BuildShim(); ok {
			// One go test -exec: each binary as soon as it is linked.
			gotool.BuildExec(buildCtx, reqs, shim, o.BuildP, r.built)
		} else {
			gotool.BuildGroups(buildCtx, reqs, early, o.BuildP, r.built)
		}
		r.mu.Lock()
		r.stats.BuildSeconds = time.Since(buildStart).Seconds()
		r.mu.Unlock()
	}()
	if r.isolating() {
		pr := isolate.Probe()
		r.mu.Lock()
		r.stats.Isolation = pr.Mode.String()
		r.mu.Unlock()
		if o.Isolate == IsolateNet && !pr.Mode.Isolated() {
			err = fmt.Errorf("--isolate net: no network namespaces here: %s", pr.Reason)
		}
	}
	var pool *workerPool
	if err == nil {
		pool, err = r.startWorkers(ctx)
	}
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: %v\n", err)
		cancelBuilds()
		buildWG.Wait()
		for _, ln := range r.lanes {
			r.giveUp(ln, ln.d.Remaining(), err)
		}
		return r.end(err)
	}
	defer pool.close()
	// Scheduling stops on -failfast/--maxfail without killing what runs;
	// an interrupt (ctx) stops both.
	dctx, stopScheduling := context.WithCancel(ctx)
	defer stopScheduling()
	r.stopScheduling, r.dispatchCtx = stopScheduling, dctx
	var laneWG sync.WaitGroup
	for _, ln := range r.lanes {
		if ln.slots == nil {
			for w := range pool.size() {
				ln.slots = append(ln.slots, w)
			}
		}
		laneWG.Add(1)
		go func() {
			defer laneWG.Done()
			exec := &executor{run: r, pool: pool, procCtx: ctx, lane: ln}
			ln.left, ln.err = ln.d.Run(dctx, len(ln.slots), exec)
		}()
	}
	laneWG.Wait()
	buildWG.Wait()
	for _, ln := range r.lanes {
		left, runErr := append(ln.left, ln.d.Remaining()...), ln.err
		if ctx.Err() == nil && dctx.Err() != nil {
			runErr = r.failStop()
		}
		r.giveUp(ln, left, runErr)
	}
	r.saveHistory()
	code := r.end(ctx.Err())
	r.printWorkers(time.Since(r.started), pool.restartCount())
	return code
}

// isolating says whether test processes run isolated (package isolate):
// by --isolate, where several processes of one package run at once.
func (r *testRun) isolating() bool {
	return r.opts.Isolate != IsolateNone && (r.opts.Dist == DistLoad || r.opts.Dist == DistEach)
}

// plan splits the runnable packages into units for the workers.
func (r *testRun) plan(pts []*scheduler.PackageTests) []*scheduler.Unit {
	opts := scheduler.PlanOptions{Dist: scheduler.DistLoad}
	if r.opts.Dist != DistLoad || r.opts.ListSet {
		opts.Dist = scheduler.DistLoadPkg
	}
	workers := r.workerCount()
	var parts []*scheduler.Unit
	if r.canSplitSubtests() {
		pts, parts = scheduler.SplitSubtests(pts, r.hist, workers, opts)
		for _, u := range parts {
			var order []string
			if ph := r.hist.Package(u.Pkg.ImportPath); ph != nil && ph.Tests[u.Tests[0]] != nil {
				order = ph.Tests[u.Tests[0]].Order
			}
			for _, ln := range r.lanes {
				key := u.Pkg.ImportPath + ln.suffix
				r.pkgs[key].merger.SplitParent(u.Tests[0], u.Parts, order)
				r.update(key, func(p *pkgRun) { p.test(u.Tests[0]).split = true })
			}
		}
	}
	return append(scheduler.Plan(pts, r.hist, max(workers, 1), opts), parts...)
}

// canSplitSubtests says whether tests may run in parts below the top
// level: only at test level, for one run of each test, and when the user's
// -run does not itself reach below the top level.
func (r *testRun) canSplitSubtests() bool {
	o := r.opts
	if o.Dist != DistLoad || o.ListSet || strings.Contains(o.Run, "/") {
		return false
	}
	for _, f := range o.TestFlags {
		if v, ok := strings.CutPrefix(f, "-test.count="); ok && v != "1" {
			return false
		}
	}
	return true
}

// built receives one build result: a failure is reported at once, a binary
// releases the package's units to the workers.
func (r *testRun) built(res gotool.BuildResult) {
	pkg := res.Pkg.ImportPath
	if res.Err == nil && !res.NoTestFiles {
		if r.replayBinary(pkg, res.Binary) {
			return // the cache's second level: the same binary passed before
		}
		for _, ln := range r.lanes {
			r.update(pkg+ln.suffix, func(p *pkgRun) { p.binary = res.Binary })
			ln.d.Add(ln.units[pkg]...)
		}
		return
	}
	var resumed bool
	r.update(pkg, func(p *pkgRun) { resumed = p.resumed })
	if resumed {
		// Its stream began on the go test path: a build failure now (an
		// interrupt, most likely) leaves its other tests not run.
		var names []string
		for _, u := range r.lanes[0].units[pkg] {
			names = append(names, u.Tests...)
		}
		why := "godist: interrupted"
		if !errors.Is(res.Err, context.Canceled) {
			why = "godist: building the test binary again: " + res.Err.Error()
		}
		r.update(pkg, func(p *pkgRun) { p.waiting = false })
		r.notRun(pkg, why, names)
		return
	}
	for _, ln := range r.lanes {
		reportBuild(r.pkgs[pkg+ln.suffix].merger, res)
		r.update(pkg+ln.suffix, func(p *pkgRun) { p.waiting = false })
	}
}

// reportBuild gives package merger m a build that made no binary: no test
// files, or a build or setup failure in go test's words.
func reportBuild(m *collector.Merger, res gotool.BuildResult) {
	if res.NoTestFiles {
		m.NoTestFiles()
		return
	}
	pkg := res.Pkg.ImportPath
	failed := res.FailedBuild
	if failed == "" {
		failed = pkg + " [" + pkg + ".test]"
	}
	output := res.Output
	if output == "" {
		output = res.Err.Error() + "\n"
	}
	if res.SetupFailed {
		m.SetupFailed(failed, output)
	} else {
		m.BuildFailed(failed, output)
	}
}

// unitDone is called after each unit; requeued reports whether some of its
// tests go round again. The package ends with its last unit.
func (r *testRun) unitDone(pkg string, requeued bool) {
	if requeued {
		return
	}
	var last bool
	var ln *lane
	r.update(pkg, func(p *pkgRun) {
		p.left--
		last = p.waiting && p.left == 0
		if last {
			p.waiting = false
		}
	})
	if !last {
		return
	}
	for _, l := range r.lanes {
		if l.suffix == r.pkgs[pkg].suffix {
			ln = l
		}
	}
	if u := r.confirmUnit(pkg); u != nil && ln != nil && ln.d != nil {
		ln.d.Add(u)
		return
	}
	r.finishPackage(pkg)
}

func (r *testRun) finishPackage(pkg string) {
	m := r.pkgs[pkg].merger
	if why := r.budgetFailure(pkg); why != "" {
		m.Fail(why)
	}
	if r.coverage != nil {
		if pct, ok := r.coverage.percent(pkg); ok {
			m.SetCoveragePercent(pct)
		}
	}
	result := m.Finish()
	r.update(pkg, func(p *pkgRun) { p.result = result })
	r.storeCached(pkg)
}

// giveUp reports the units the dispatcher could not run.
// notRun ends package pkg (a lane's key) with a failure saying that tests
// did not run, and why.
func (r *testRun) notRun(pkg, why string, tests []string) {
	m := r.pkgs[pkg].merger
	if len(tests) > 0 {
		names := tests
		if len(names) > 20 {
			names = append(names[:20:20], "…")
		}
		m.Fail(fmt.Sprintf("%s: %d tests not run: %s", why, len(tests), strings.Join(names, " ")))
	} else {
		m.Fail(why)
	}
	r.finishPackage(pkg)
}

func (r *testRun) giveUp(ln *lane, left []*scheduler.Unit, why error) {
	notRun := map[string][]string{}
	for _, u := range left {
		key := u.Pkg.ImportPath + ln.suffix
		notRun[key] = append(notRun[key], u.Tests...)
	}
	reason := "godist: gave up after repeated crashes before any test started"
	switch {
	case errors.Is(why, scheduler.ErrNoWorkers):
		reason = "godist: no workers left"
	case errors.Is(why, context.Canceled):
		reason = "godist: interrupted"
	case why != nil:
		reason = "godist: " + why.Error()
	}
	for _, p := range r.lanePackages(ln) {
		var pending bool
		r.update(p.key, func(p *pkgRun) { pending, p.waiting = p.waiting, false })
		if pending {
			r.notRun(p.key, reason, notRun[p.key])
		}
	}
}

// end flushes the output and computes the exit status.
func (r *testRun) end(err error) int {
	r.progress.stop()
	r.seq.Flush()
	if r.reorder != nil {
		r.reorder.Flush()
	}
	if cerr := r.out.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if r.coverage != nil && r.opts.CoverProfile != "" {
		if werr := r.coverage.write(r.opts.CoverProfile); werr != nil {
			fmt.Fprintf(r.stderr, "godist: %v\n", werr)
			err = werr
		}
	}
	r.printConfirmed()
	if r.cache != nil {
		r.cache.c.Trim()
	}
	r.writeStats()
	r.printSlowest()
	if r.opts.RerunFails > 0 {
		if flaky := r.flaky(); len(flaky) > 0 && !r.opts.JSON {
			fmt.Fprintf(r.stdout, "godist: %d flaky tests (failed, then passed on a rerun):\n", len(flaky))
			for _, f := range flaky {
				fmt.Fprintf(r.stdout, "FLAKY\t%s\n", strings.Replace(f, " ", "\t", 1))
			}
		}
		// The verdict is each package's: a test that passed on a rerun
		// does not fail its package.
		if err == nil && len(r.status.FailedPackages) == 0 {
			return report.ExitOK
		}
		return report.ExitCode(err, r.status)
	}
	return report.ExitCode(err, r.status)
}

// buildFlags are the flags of `go test -c`. Like go test, which links the
// binaries it runs without symbol table and DWARF (cmd/go: OmitDebug unless
// -c), godist adds -s -w to the link: linking with DWARF costs more than
// the rest of a warm build, and stack traces do not need it.
func (r *testRun) buildFlags() []string {
	var flags []string
	ldflags := "-s -w"
	for _, f := range r.opts.BuildFlags {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok {
			ldflags = v + " -s -w"
			continue
		}
		flags = append(flags, f)
	}
	flags = append(flags, "-ldflags="+ldflags)
	if r.opts.VetSet {
		flags = append(flags, "-vet="+r.opts.Vet)
	}
	return flags
}

func (r *testRun) loadHistory() {
	path := r.opts.HistoryFile
	if path == "" {
		p, err := scheduler.DefaultHistoryPath()
		if err == nil {
			path = p
		}
	}
	h, err := scheduler.LoadHistory(path)
	var bad *scheduler.BadHistoryError
	switch {
	case errors.As(err, &bad):
		// Bad state never stops a run: keep the file for a look, go on
		// with what could be used of it.
		what := "going on without it"
		if bad.Partial {
			what = "going on with the rest"
		}
		if aside, aerr := bad.SetAside(); aerr == nil {
			what += "; the file is kept as " + aside
		}
		fmt.Fprintf(r.stderr, "godist: duration %v: %s\n", bad, what)
	case err != nil:
		fmt.Fprintf(r.stderr, "godist: ignoring duration history: %v\n", err)
		h = scheduler.NewHistory(path)
	}
	r.hist = h
}

func (r *testRun) saveHistory() {
	if r.opts.ShardCount > 1 {
		// Every shard must split by the same history, so no shard writes
		// it; `godist merge --history FILE` records the merged run.
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, key := range r.keys {
		p := r.pkgs[key]
		if r.eachMode() || len(p.results) == 0 {
			continue // with --dist each every worker ran everything: not one run's durations
		}
		res := scheduler.ResultFromEvents(time.Time{}, p.results)
		res.Startup = 0
		if len(p.startups) > 0 {
			res.Startup = medianDuration(p.startups)
		}
		r.hist.Record(p.path, res)
		r.learn(p)
	}
	if err := r.hist.Save(); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(r.stderr, "godist: saving duration history: %v\n", err)
	}
}

// newRunID is a random id for one run.
func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// scratch returns a fresh path in the run's work directory.
func (r *testRun) scratch(name string) string {
	return filepath.Join(r.workDir, name)
}
