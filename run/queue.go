package run

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/gotool"
	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/queue"
	"github.com/godist/godist/report"
	"github.com/godist/godist/scheduler"
	"github.com/godist/godist/workers"
)

// QueuePasswordEnv names the environment variable that holds the Redis
// password of --queue when its URL has none.
const QueuePasswordEnv = "GODIST_QUEUE_PASSWORD"

// queueGiveUp is how many leases a unit gets before a job gives up on it:
// a unit whose jobs keep dying would otherwise come back forever.
const queueGiveUp = 4

// queuePayload is what a queue unit carries: one batch of tests of one
// package, or a package without test files.
type queuePayload struct {
	Pkg     string   `json:"pkg"`
	Tests   []string `json:"tests,omitempty"`
	NoTests bool     `json:"no_tests,omitempty"`
}

// queueJob is one job of a --queue run: it takes units from the shared
// queue, runs each in test processes of its own, and records each unit's
// go test -json stream as the unit's result.
type queueJob struct {
	r      *testRun
	q      *queue.Queue
	pkgs   map[string]*gotool.Package
	pool   *workerPool
	builds map[string]*queueBuild

	mu      sync.Mutex
	streams [][]collector.Event // the units this job recorded
	dups    int                 // results dropped: another job's came first
}

// queueBuild is one package's test binary, once built.
type queueBuild struct {
	done chan struct{}
	res  gotool.BuildResult
}

// runQueue is the run of one CI job with --queue: register the plan (or
// join the one registered), build, and run what the queue hands out until
// every unit of the run has a result. Its output is what this job ran.
func (r *testRun) runQueue(ctx context.Context, pkgs []*gotool.Package, runnable []*scheduler.PackageTests, noTests map[string]bool) int {
	o := r.opts
	r.progress.stop()
	host, _ := os.Hostname()
	q, err := queue.Open(ctx, o.Queue, queue.Options{
		// Unique even for two runs in one process.
		Job:          fmt.Sprintf("%s-%d-%s", cmp.Or(strings.Map(jobRune, host), "job"), os.Getpid(), r.runID[:4]),
		PasswordEnv:  QueuePasswordEnv,
		LeaseTimeout: o.QueueLease,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(r.stderr, "godist: --queue: "+format+"\n", args...)
		},
	})
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: --queue: %v\n", err)
		if errors.Is(err, queue.ErrBadURL) {
			return report.ExitUsage
		}
		return report.ExitFailed
	}
	units, fp := r.queuePlan(pkgs, runnable, noTests)
	registered, err := q.Register(ctx, fp, units)
	if err != nil {
		q.Close()
		var fe *queue.FingerprintError
		if errors.As(err, &fe) {
			fmt.Fprintf(r.stderr, "godist: --queue: %v: this job's packages, tests, flags or code differ from those of the job that registered the run; it runs nothing\n", err)
		} else {
			fmt.Fprintf(r.stderr, "godist: --queue: %v\n", err)
		}
		return report.ExitFailed
	}
	if registered {
		fmt.Fprintf(r.stderr, "godist: --queue %s: registered %d units\n", q, len(units))
	} else {
		fmt.Fprintf(r.stderr, "godist: --queue %s: joined the registered plan\n", q)
	}
	j := &queueJob{r: r, q: q, pkgs: map[string]*gotool.Package{}, builds: map[string]*queueBuild{}}
	for _, p := range pkgs {
		j.pkgs[p.ImportPath] = p
	}
	buildCtx, cancelBuilds := context.WithCancel(ctx)
	var buildWG sync.WaitGroup
	j.startBuilds(buildCtx, runnable, &buildWG)
	j.pool, err = r.startWorkers(ctx)
	if err == nil {
		err = j.work(ctx)
		j.pool.close()
	}
	cancelBuilds()
	buildWG.Wait()
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: --queue: %v\n", err)
		// Leases still held go back at once, for the other jobs.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		q.Shutdown(sctx)
		cancel()
	} else {
		q.Close()
	}
	code := j.report(err)
	r.writeStats()
	return code
}

// jobRune keeps the letters, digits and -._ of a host name for a job name.
func jobRune(c rune) rune {
	if c == '-' || c == '.' || c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
		return c
	}
	return -1
}

// queuePlan makes the units of the queue, longest first by the history,
// and the fingerprint that every job of the run must share: the godist
// build, the platform, the flags, the selected tests and the contents of
// the packages' directories.
func (r *testRun) queuePlan(pkgs []*gotool.Package, runnable []*scheduler.PackageTests, noTests map[string]bool) ([]queue.Unit, string) {
	o := r.opts
	fp := sha256.New()
	fmt.Fprintf(fp, "godist %s\x00%s/%s\x00", buildVersion(), runtime.GOOS, runtime.GOARCH)
	for _, list := range [][]string{o.BuildFlags, o.TestFlags, o.TestArgs, {o.Run, o.Skip, string(o.Dist)}} {
		fmt.Fprintf(fp, "%q\x00", list)
	}
	for _, p := range pkgs {
		fmt.Fprintf(fp, "pkg %s\x00", p.ImportPath)
		hist, _ := filepath.Abs(o.HistoryFile)
		hashDir(fp, p.Dir, hist)
	}
	for _, pt := range runnable {
		fmt.Fprintf(fp, "tests %s %q\x00", pt.Pkg.ImportPath, pt.Names())
	}
	opts := scheduler.PlanOptions{Dist: scheduler.DistLoad}
	if o.Dist == DistLoadPkg || o.ListSet {
		opts.Dist = scheduler.DistLoadPkg
	}
	// Small units, so that jobs that join late or run slow even out:
	// as many as four jobs of this one's size would want.
	planned := scheduler.Plan(runnable, r.hist, 4*max(r.workerCount(), 1), opts)
	slices.SortStableFunc(planned, func(a, b *scheduler.Unit) int { return cmp.Compare(b.Estimate, a.Estimate) })
	var units []queue.Unit
	seq := map[string]int{}
	add := func(p queuePayload) {
		data, _ := json.Marshal(p)
		seq[p.Pkg]++
		units = append(units, queue.Unit{ID: fmt.Sprintf("%s#%d", p.Pkg, seq[p.Pkg]), Payload: data})
	}
	for _, u := range planned {
		add(queuePayload{Pkg: u.Pkg.ImportPath, Tests: u.Tests})
	}
	for _, p := range pkgs {
		if noTests[p.ImportPath] {
			add(queuePayload{Pkg: p.ImportPath, NoTests: true})
		}
	}
	return units, hex.EncodeToString(fp.Sum(nil))[:20]
}

// hashDir adds the names and contents of the regular files in dir (not
// below it) to h: a package's code and the files its tests read. Hidden
// files and skip (the duration history, which jobs need not share) are
// left out.
func hashDir(h io.Writer, dir, skip string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintf(h, "unreadable %v\x00", err)
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || filepath.Join(dir, e.Name()) == skip {
			continue
		}
		fmt.Fprintf(h, "%s\x00", e.Name())
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			fmt.Fprintf(h, "unreadable\x00")
			continue
		}
		io.Copy(h, f)
		f.Close()
		h.Write([]byte{0})
	}
}

// startBuilds builds every runnable package's test binary, longest work
// first; a unit waits for its package's.
func (j *queueJob) startBuilds(ctx context.Context, runnable []*scheduler.PackageTests, wg *sync.WaitGroup) {
	r := j.r
	var reqs []gotool.BuildRequest
	for _, pt := range runnable {
		j.builds[pt.Pkg.ImportPath] = &queueBuild{done: make(chan struct{})}
		reqs = append(reqs, gotool.BuildRequest{Pkg: pt.Pkg, OutDir: r.workDir, BuildFlags: r.buildFlags()})
	}
	built := func(res gotool.BuildResult) {
		if b := j.builds[res.Pkg.ImportPath]; b != nil {
			select {
			case <-b.done: // reported twice: the first stays
			default:
				b.res = res
				close(b.done)
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		if shim, ok := gotool.BuildShim(); ok {
			gotool.BuildExec(ctx, reqs, shim, r.opts.BuildP, built)
		} else {
			gotool.BuildGroups(ctx, reqs, 0, r.opts.BuildP, built)
		}
		// A package the build never reported fails its units.
		for _, req := range reqs {
			built(gotool.BuildResult{Pkg: req.Pkg, Err: fmt.Errorf("not built: %w", cmp.Or(ctx.Err(), errors.New("the build ended without it")))})
		}
		r.mu.Lock()
		r.stats.BuildSeconds = time.Since(start).Seconds()
		r.mu.Unlock()
	}()
}

// work runs one lease loop per worker slot until the queue is drained.
// It fails when ctx ends or when the job has no workers left.
func (j *queueJob) work(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, j.pool.size())
	for w := range j.pool.size() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = j.slot(ctx, w)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	var lost int
	for _, err := range errs {
		var qe *queueError
		if errors.As(err, &qe) {
			return err // the queue itself failed: no slot can go on
		}
		if err != nil {
			lost++
		}
	}
	if lost == len(errs) {
		return fmt.Errorf("%w: %w", scheduler.ErrNoWorkers, errors.Join(errs...))
	}
	return nil
}

// slot is the lease loop of worker slot w.
func (j *queueJob) slot(ctx context.Context, w int) error {
	worker := fmt.Sprintf("gw%d", w)
	for {
		l, err := j.q.Lease(ctx, worker)
		if errors.Is(err, queue.ErrDrained) {
			return nil
		}
		if err != nil {
			return &queueError{err}
		}
		events, err := j.runUnit(ctx, w, l)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // its processes were stopped: not a result
		}
		if err != nil {
			// The worker or the job broke, not the tests: the unit goes
			// back to the queue whole.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			j.q.Requeue(rctx, l.ID)
			cancel()
			if ctx.Err() != nil || !j.pool.replace(ctx, w, err) {
				return err
			}
			continue
		}
		if err := j.complete(ctx, l.ID, events); err != nil {
			return &queueError{err}
		}
	}
}

// queueError is a failure of the queue (Redis gone, a bad reply), not of
// a worker.
type queueError struct{ err error }

func (e *queueError) Error() string { return e.err.Error() }
func (e *queueError) Unwrap() error { return e.err }

// complete records a unit's stream in the queue and, unless another job's
// result came first, as this job's.
func (j *queueJob) complete(ctx context.Context, id string, events []collector.Event) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("unit %s: %v", id, err)
		}
	}
	err := j.q.Complete(ctx, id, buf.Bytes())
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case errors.Is(err, queue.ErrDuplicate):
		j.dups++
		return nil
	case err != nil:
		return err
	}
	j.streams = append(j.streams, events)
	return nil
}

// runUnit runs leased unit l on worker slot w and returns its go test
// -json stream: the package's events as if its test binary had run only
// the unit's tests. An error means the worker was lost and nothing of the
// unit counts.
func (j *queueJob) runUnit(ctx context.Context, w int, l queue.Lease) ([]collector.Event, error) {
	var p queuePayload
	var events []collector.Event
	var mu sync.Mutex
	name := l.ID
	if err := json.Unmarshal(l.Payload, &p); err == nil {
		name = p.Pkg
	}
	m := collector.NewMerger(name, nil, func(e collector.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	finish := func() []collector.Event {
		m.Finish()
		mu.Lock()
		defer mu.Unlock()
		return events
	}
	pkg := j.pkgs[p.Pkg]
	switch {
	case pkg == nil:
		m.Fail(fmt.Sprintf("godist: --queue: unit %s names a package this job did not load (%s)", l.ID, p.Pkg))
		return finish(), nil
	case p.NoTests:
		m.NoTestFiles()
		return finish(), nil
	case l.Attempt > queueGiveUp:
		m.Fail(fmt.Sprintf("godist: --queue: gave up after %d jobs or workers were lost running it: %d tests not run: %s",
			l.Attempt-1, len(p.Tests), strings.Join(p.Tests, " ")))
		return finish(), nil
	}
	b := j.builds[p.Pkg]
	if b == nil {
		m.Fail("godist: --queue: no build of " + p.Pkg)
		return finish(), nil
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if b.res.Err != nil || b.res.NoTestFiles {
		reportBuild(m, b.res)
		return finish(), nil
	}
	m.Start()
	u := &scheduler.Unit{Pkg: pkg, Tests: p.Tests}
	// A process that dies mid-batch leaves its later tests to another
	// process, as the run does without a queue.
	for range queueGiveUp {
		requeue, err := j.runProcess(ctx, w, m, u, b.res.Binary)
		if err != nil {
			return nil, err
		}
		if len(requeue) == 0 {
			break
		}
		u = &scheduler.Unit{Pkg: pkg, Tests: requeue}
	}
	return finish(), nil
}

// runProcess runs one test process of unit u on slot w into merger m. It
// returns the tests that an abnormal end kept from running.
func (j *queueJob) runProcess(ctx context.Context, w int, m *collector.Merger, u *scheduler.Unit, bin string) ([]string, error) {
	r := j.r
	timeout := r.opts.Timeout
	conv := m.NewProcess(u.Tests, true)
	start := time.Now()
	panics := newPanicRewriter(conv, timeout, timeout)
	watch := newTestWatch(panics, start)
	req := workers.Request{Argv: r.argv(bin, u, "", timeout, ""), Dir: u.Pkg.Dir, Env: r.testEnv(w, j.pool.size())}
	req.Deadline, req.WaitDelay = killTimeout(timeout)
	req.QuitGrace = testTimeoutGrace
	req.Isolate = r.isolating()
	runner := j.pool.runner(w)
	if gr, ok := runner.(*workers.Remote); ok && r.opts.WorkerAttr {
		conv.SetWorker(j.q.Job() + "/" + gr.Gateway().ID())
	}
	var stopWatchdog func() string
	if r.opts.TestTimeout > 0 {
		kill := make(chan proc.Sig, 1)
		req.Kill = kill
		stopWatchdog = watch.watchdog(r.opts.TestTimeout, kill)
	}
	r.mu.Lock()
	r.stats.TestProcesses++
	r.mu.Unlock()
	res, err := runner.Run(ctx, req, watch)
	panics.flush()
	overdue := ""
	if stopWatchdog != nil {
		overdue = stopWatchdog()
	}
	if err != nil {
		conv.Abort(fmt.Sprintf("godist: worker gw%d lost: %v", w, err))
		return nil, fmt.Errorf("worker gw%d: %w", w, err)
	}
	pr := conv.Finish(res.ExitCode, r.endReason(overdue, res, req))
	if res.IOIncomplete {
		m.Fail(ioIncomplete(req.WaitDelay))
	}
	if pr.TimedOut || len(pr.Started) == 0 {
		return nil, nil // go test would run nothing more of it
	}
	return pr.Requeue, nil
}

// report prints what this job ran, merged per package as one run's
// stream, and returns go test's exit status for it.
func (j *queueJob) report(runErr error) int {
	r := j.r
	o := r.opts
	out, err := report.Open(report.Outputs{JSON: o.JSON, Format: o.Format, Verbose: o.Verbose || o.ListSet,
		LocalDir: !o.ExplicitPackages, Summary: o.Summary, JSONFile: o.JSONFile, JUnitFile: o.JUnitFile}, r.stdout, r.stderr)
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: %v\n", err)
		return report.ExitCode(err, nil)
	}
	j.mu.Lock()
	streams, dups := j.streams, j.dups
	j.mu.Unlock()
	for _, e := range collector.MergeStreams(streams) {
		if err = out.Event(e); err != nil {
			break
		}
	}
	err = errors.Join(runErr, err, out.Close())
	fmt.Fprintf(r.stderr, "godist: --queue: this job recorded %d units", len(streams))
	if dups > 0 {
		fmt.Fprintf(r.stderr, " (%d more ran here too, but another job's result came first)", dups)
	}
	fmt.Fprintln(r.stderr, "; `godist merge --queue URL` reports the whole run")
	return report.ExitCode(err, out.Status)
}
