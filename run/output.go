package run

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/gotool"
	"github.com/godist/godist/report"
)

// openOutput sets up the renderers and one merger per package.
func (r *testRun) openOutput(pkgs []*gotool.Package, runOrder map[string][]string) error {
	o := r.opts
	out, err := report.Open(report.Outputs{
		JSON:   o.JSON,
		Format: o.Format,
		// go test shows -list output like -v output.
		Verbose: o.Verbose || o.ListSet,
		// go test with no package arguments prints differently.
		LocalDir:  !o.ExplicitPackages,
		Summary:   o.Summary,
		JSONFile:  o.JSONFile,
		JUnitFile: o.JUnitFile,
	}, r.stdout, r.stderr)
	if err != nil {
		return err
	}
	r.out, r.status = out, out.Status
	order := map[string][]string{}
	for _, p := range pkgs {
		for _, ln := range r.lanes {
			r.keys = append(r.keys, p.ImportPath+ln.suffix)
			order[p.ImportPath+ln.suffix] = runOrder[p.ImportPath]
		}
	}
	sink := func(e collector.Event) {
		r.observe(e)
		r.out.Event(e)
	}
	mode := collector.Streaming
	if out.Ordered {
		mode = collector.Ordered
		// Text shows each package as one process would have run it.
		r.reorder = collector.NewReorderer(order, sink)
		sink = r.reorder.Emit
	}
	r.seq = collector.NewSequencer(r.keys, mode, sink)
	r.pkgs = map[string]*pkgRun{}
	for _, p := range pkgs {
		for _, ln := range r.lanes {
			key := p.ImportPath + ln.suffix
			pr := newPkgRun(key, ln.suffix, p, nil, runOrder[p.ImportPath])
			m := collector.NewMerger(key, nil, func(e collector.Event) {
				if r.cache != nil { // set before any test runs
					pr.stream.record(e)
				}
				r.progressEmit(e)
			})
			if o.RerunFails > 0 {
				m.SetReruns()
			}
			pr.merger = m
			if pr.whole = r.hist.Whole(p.ImportPath); pr.whole && ln.suffix == "" {
				r.stats.WholePackages++
			}
			r.pkgs[key] = pr
		}
	}
	known, all := 0, 0
	var work time.Duration
	for pkg, names := range runOrder {
		for _, n := range names {
			all++
			if d, ok := r.hist.Estimate(pkg, n); ok {
				known++
				work += d
			}
		}
	}
	r.progress.setKnown(all > 0 && known*10 >= all*9, work*time.Duration(len(r.lanes)))
	r.busy = map[int]*workerUse{}
	if o.CoverProfile != "" || o.covering() {
		// A package's processes' profiles are merged for its coverage
		// line (each process prints only its own) and -coverprofile.
		r.coverage = newCoverMerger()
	}
	return nil
}

// progressEmit passes a merger's event on to the sequencer, and first
// shows its top-level tests' starts and results on the status line, test
// by test, before text output holds them back in package order.
func (r *testRun) progressEmit(e collector.Event) {
	if r.progress != nil && e.Test != "" && !strings.Contains(e.Test, "/") {
		switch e.Action {
		case "attr":
			if w, ok := strings.CutPrefix(e.Value, "gw"); ok && e.Key == collector.WorkerAttr {
				if n, err := strconv.Atoi(w); err == nil {
					r.progress.testRunning(n, e.Package, e.Test)
				}
			}
		case "run":
			r.progress.testRunning(-1, e.Package, e.Test)
		case "pass", "fail", "skip":
			path := e.Package
			if p := r.pkgs[e.Package]; p != nil {
				path = p.path
			}
			est, _ := r.hist.Estimate(path, e.Test)
			r.progress.testDone(e.Action == "fail", est)
		}
	}
	r.seq.Emit(e)
}

// observe sees every event on its way out: test results feed the history
// and the run's figures. It runs under the sequencer's lock.
func (r *testRun) observe(e collector.Event) {
	if e.Test == "" {
		return
	}
	if e.Action == "run" || (e.Action == "attr" && e.Key == collector.WorkerAttr) {
		r.mu.Lock()
		r.tally.note(e)
		r.mu.Unlock()
	}
	switch e.Action {
	case "run", "pass", "fail", "skip":
	default:
		return
	}
	if r.pkgs[e.Package] == nil {
		return
	}
	r.update(e.Package, func(p *pkgRun) {
		top, sub, nested := strings.Cut(e.Test, "/")
		if e.Elapsed != nil && !nested {
			p.test(top).last = e.Action
		}
		p.results = append(p.results, collector.Event{
			Time: e.Time, Action: e.Action, Package: e.Package, Test: e.Test, Elapsed: e.Elapsed,
		})
		if e.Elapsed != nil {
			r.noteElapsed(*e.Elapsed, nested, sub, p.tests[top] != nil && p.tests[top].split)
		}
	})
}

// noteElapsed adds one test's time to the run's figures. The longest piece
// of work that cannot be spread is a top-level test, or, for one run split
// below the top level, its longest direct subtest. Under r.mu.
func (r *testRun) noteElapsed(elapsed float64, nested bool, sub string, split bool) {
	switch {
	case !nested:
		r.stats.TotalTestSeconds += elapsed
		if !split {
			r.stats.LongestTest = max(r.stats.LongestTest, elapsed)
		}
	case split && !strings.Contains(sub, "/"):
		r.stats.LongestTest = max(r.stats.LongestTest, elapsed)
	}
}

// workerUse is what one worker slot did.
type workerUse struct {
	busy      time.Duration
	processes int
	tests     int
}

func (r *testRun) noteBusy(w int, d time.Duration, tests int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.busy[w]
	if u == nil {
		u = &workerUse{}
		r.busy[w] = u
	}
	u.busy += d
	u.processes++
	u.tests += tests
}

// testTally counts the tests each worker ran the way gotestsum's DONE
// line counts them: every run event of a test, subtests and reruns
// included. A top-level test belongs to the worker its godist.worker attr
// event names (it follows the run event); a subtest to its own attr's
// worker when it has one (a test split below the top level), else to its
// top-level test's. Runs no attr names count as unattributed. Under r.mu.
type testTally struct {
	byWorker     map[string]int
	unattributed int
	worker       map[string]string // "pkg\x00test" -> its worker, from attr events
	pending      map[string]bool   // "pkg\x00test" -> a run waiting for its attr event
}

func (t *testTally) note(e collector.Event) {
	if t.byWorker == nil {
		t.byWorker, t.worker, t.pending = map[string]int{}, map[string]string{}, map[string]bool{}
	}
	key := e.Package + "\x00" + e.Test
	if e.Action == "attr" {
		t.worker[key] = e.Value
		if t.pending[key] {
			delete(t.pending, key)
			t.byWorker[e.Value]++
		}
		return
	}
	if top, _, nested := strings.Cut(e.Test, "/"); nested {
		if w, ok := t.worker[e.Package+"\x00"+top]; ok {
			t.byWorker[w]++
			return
		}
	}
	if t.pending[key] {
		t.unattributed++ // a rerun of a test whose first run no attr named
	}
	t.pending[key] = true
}

// total is the number of test runs counted, attributed or not.
func (t *testTally) total() (attributed, unattributed int) {
	for _, n := range t.byWorker {
		attributed += n
	}
	return attributed, t.unattributed + len(t.pending)
}

// printWorkers prints a utilisation line per worker after a --format
// summary: busy time and share of the run, test processes, and tests
// counted as gotestsum's DONE line counts them (runs of tests and
// subtests), so that the lines add up to it; then restarts.
func (r *testRun) printWorkers(elapsed time.Duration, restarts int) {
	if r.opts.Format == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	attributed, unattributed := r.tally.total()
	slots := slices.Sorted(maps.Keys(r.busy))
	for _, w := range slots {
		u := r.busy[w]
		tests := u.tests // top-level tests of its processes, when no attr names workers
		if attributed > 0 {
			tests = r.tally.byWorker[fmt.Sprintf("gw%d", w)]
		}
		fmt.Fprintf(r.stdout, "[gw%d] busy %.2fs (%.0f%%), %s, %s\n",
			w, u.busy.Seconds(), 100*u.busy.Seconds()/max(elapsed.Seconds(), 1e-9),
			plural(u.processes, "process", "processes"), plural(tests, "test", "tests"))
	}
	if attributed > 0 && unattributed > 0 {
		fmt.Fprintf(r.stdout, "[no worker] %s\n", plural(unattributed, "test", "tests"))
	}
	if restarts > 0 {
		fmt.Fprintf(r.stdout, "workers restarted: %d\n", restarts)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// printSlowest lists the --slowest N top-level tests, like gotestsum's
// tool slowest, after the run's output (not in -json mode: stdout is JSON).
func (r *testRun) printSlowest() {
	if r.opts.Slowest == 0 || r.opts.JSON {
		return
	}
	type slow struct {
		name string
		secs float64
	}
	var all []slow
	for _, key := range r.keys {
		r.update(key, func(p *pkgRun) {
			for _, e := range p.results {
				if e.Elapsed != nil && !strings.Contains(e.Test, "/") && e.Action != "run" {
					all = append(all, slow{key + " " + e.Test, *e.Elapsed})
				}
			}
		})
	}
	slices.SortFunc(all, func(a, b slow) int {
		if a.secs != b.secs {
			if a.secs > b.secs {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	fmt.Fprintf(r.stdout, "godist: %d slowest tests:\n", min(r.opts.Slowest, len(all)))
	for _, s := range all[:min(r.opts.Slowest, len(all))] {
		fmt.Fprintf(r.stdout, "%8.2fs  %s\n", s.secs, s.name)
	}
}
