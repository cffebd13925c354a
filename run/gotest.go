package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/scheduler"
)

// The go test path: a suite whose whole test time, by the duration
// history, is a fraction of a second gains nothing from workers. Spreading
// it saves at most that fraction, while building in godist and starting
// workers costs a tenth of a second or two more than go test, which
// overlaps building one package with running the tests of another. Such a
// suite runs as one `go test -json` command, whose output goes through the
// same collector as a worker's: each package's output becomes one process
// of its Merger. A package whose test binary died (a panic, os.Exit) leaves
// its tests that did not start to the usual distributed run afterwards, so
// a crash still takes down nothing but the crashed test.

// smallSuiteWork is the most test time (the sum of the history's estimates
// of every selected top-level test) a suite may have to run on the go test
// path.
const smallSuiteWork = 500 * time.Millisecond

// smallSuite reports whether the run should take the go test path: when
// the history knows the suite (not on a first run) and no godist feature
// that needs its own processes is asked for.
func (r *testRun) smallSuite(pts []*scheduler.PackageTests) bool {
	o := r.opts
	if o.DistSet || o.Dist != DistLoad || len(o.TxSpecs) > 0 || o.ListSet || o.ShardCount > 1 ||
		o.RerunFails > 0 || o.MaxFail > 0 || o.Failfast || o.TestTimeout > 0 || r.coverage != nil {
		return false
	}
	for _, f := range o.BuildFlags {
		if strings.HasPrefix(f, "-cover") {
			return false
		}
	}
	var total time.Duration
	known := 0
	for _, pt := range pts {
		if pt.Pkg.Error != nil {
			return false
		}
		for _, f := range pt.Funcs {
			d, ok := r.hist.Estimate(pt.Pkg.ImportPath, f.Name)
			if !ok {
				// New, or never run (its package did not build). Guessing
				// too low costs at most the speed-up workers would bring.
				d = unknownTestWork
			} else {
				known++
			}
			total += d
		}
	}
	return known > 0 && total <= smallSuiteWork
}

// unknownTestWork is what smallSuite counts for a test the history does not
// know.
const unknownTestWork = 25 * time.Millisecond

// goTestArgs is the go test command line for the packages: the user's
// flags; with a command line go test would cache, go test's own cache
// serves these packages, else -count=1.
func (r *testRun) goTestArgs(pts []*scheduler.PackageTests) []string {
	o := r.opts
	args := []string{"test", "-json", "-p=" + strconv.Itoa(o.BuildP), "-timeout=" + o.Timeout.String()}
	count := false
	for _, f := range o.TestFlags {
		count = count || strings.HasPrefix(f, "-test.count=")
	}
	if !count {
		if !r.cacheable() {
			args = append(args, "-count=1")
		}
	}
	args = append(args, o.BuildFlags...)
	if o.VetSet {
		args = append(args, "-vet="+o.Vet)
	}
	if o.Run != "" {
		args = append(args, "-run="+o.Run)
	}
	args = append(args, o.TestFlags...)
	for _, pt := range pts {
		args = append(args, pt.Pkg.ImportPath)
	}
	if len(o.TestArgs) > 0 {
		args = append(append(args, "-args"), o.TestArgs...)
	}
	return args
}

// runGoTest runs pts with one go test command and reports each package
// through its Merger. It returns the packages to run again on workers,
// with only the tests that a dying test binary left unstarted, and
// finishes every other package.
func (r *testRun) runGoTest(ctx context.Context, pts []*scheduler.PackageTests) ([]*scheduler.PackageTests, error) {
	r.mu.Lock()
	r.stats.GoTestPath = true
	r.stats.TestProcesses += len(pts)
	r.mu.Unlock()
	byPath := map[string]*scheduler.PackageTests{}
	for _, pt := range pts {
		byPath[pt.Pkg.ImportPath] = pt
	}
	cmd := exec.CommandContext(ctx, "go", r.goTestArgs(pts)...)
	cmd.Env = append(os.Environ(), r.testEnv(0, 1)...)
	cmd.Stderr = r.stderr
	// As for test processes (proc.go): a process group of its own, so that
	// an interrupt kills the test binaries go started along with go.
	proc.Group(cmd, proc.Options{DieWithParent: true})
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("go test: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("go test: %w", err)
	}
	// Should godist be killed outright, go test dies with it (above); its
	// test binaries die by the watchdog.
	stopWatch := proc.Watch(cmd.Process)
	defer stopWatch()
	gt := &goTestStream{r: r, pkgs: byPath, raw: map[string]*collector.RawOutput{}, buildOut: map[string]*bytes.Buffer{}}
	derr := gt.read(out)
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if werr != nil {
		// go test died (a test killed it, say): the test binaries it
		// started are in its process group and die with it, not run on
		// as orphans.
		proc.Signal(cmd.Process, proc.Kill)
	}
	if derr == nil && ctx.Err() == nil && len(gt.done) < len(pts) {
		// The go command failed before reporting every package (its
		// reason is on stderr).
		derr = fmt.Errorf("go test: %v before reporting every package", werr)
	}
	// Whatever was not reported runs on workers (or, after an interrupt,
	// is reported as not run): nothing is lost.
	for _, pt := range pts {
		if !gt.done[pt.Pkg.ImportPath] {
			gt.abort(pt)
		}
	}
	return gt.again, derr
}

// goTestStream demultiplexes go test -json output by package.
type goTestStream struct {
	r        *testRun
	pkgs     map[string]*scheduler.PackageTests
	raw      map[string]*collector.RawOutput // package -> its test binary's output so far
	buildOut map[string]*bytes.Buffer        // failed build (ImportPath) -> its build output
	done     map[string]bool
	again    []*scheduler.PackageTests
}

func (g *goTestStream) read(out io.Reader) error {
	g.done = map[string]bool{}
	dec := collector.NewDecoder(out)
	for {
		e, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("go test: %w", err)
		}
		if e.ImportPath != "" && e.Package == "" {
			if e.Action == "build-output" {
				b := g.buildOut[e.ImportPath]
				if b == nil {
					b = &bytes.Buffer{}
					g.buildOut[e.ImportPath] = b
				}
				b.WriteString(e.Output)
			}
			continue
		}
		if g.pkgs[e.Package] == nil || g.done[e.Package] {
			continue
		}
		if e.Action == "start" {
			// Not the Merger's Start yet: a package whose build failed
			// has a start event too, and its stream must not begin.
			continue
		}
		raw := g.raw[e.Package]
		if raw == nil {
			raw = &collector.RawOutput{}
			g.raw[e.Package] = raw
		}
		raw.Add(e)
		if e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			g.finish(e)
		}
	}
}

// finish reports one package from its go test events, as one process.
func (g *goTestStream) finish(end collector.Event) {
	pkg := end.Package
	g.done[pkg] = true
	m := g.r.pkgs[pkg].merger
	if end.FailedBuild != "" {
		output := ""
		if b := g.buildOut[end.FailedBuild]; b != nil {
			// go test prints a failed dependency's errors once.
			output = b.String()
			b.Reset()
		}
		m.BuildFailed(end.FailedBuild, output)
		return
	}
	raw := g.raw[pkg]
	if raw == nil {
		raw = &collector.RawOutput{}
	}
	pt := g.pkgs[pkg]
	conv := m.NewProcess(pt.Names(), true)
	conv.Write(raw.Bytes())
	res := conv.Finish(raw.ExitCode(end.Action), "")
	if len(res.Requeue) == 0 {
		if end.Elapsed != nil {
			m.SetElapsed(time.Duration(*end.Elapsed * float64(time.Second)))
		}
		if raw.Cached() {
			m.SetCached() // go test's own cache served it
		}
		g.r.finishPackage(pkg)
		return
	}
	g.runAgain(pt, res.Requeue)
}

// abort reports what a package that go test never finished got to run
// (its finished tests) and leaves the rest to workers.
func (g *goTestStream) abort(pt *scheduler.PackageTests) {
	// go test died (killed by one of its tests, maybe): the package's
	// tests run guarded on workers.
	g.r.update(pt.Pkg.ImportPath, func(p *pkgRun) { p.guard = true })
	raw := g.raw[pt.Pkg.ImportPath]
	if raw == nil {
		g.again = append(g.again, pt)
		return
	}
	conv := g.r.pkgs[pt.Pkg.ImportPath].merger.NewProcess(pt.Names(), true)
	conv.Write(raw.Bytes())
	res := conv.Abort("godist: go test ended before it reported the package")
	g.runAgain(pt, res.Requeue)
}

// runAgain leaves the package's tests named in names to workers.
func (g *goTestStream) runAgain(pt *scheduler.PackageTests, names []string) {
	left := map[string]bool{}
	for _, t := range names {
		left[t] = true
	}
	rest := *pt
	rest.Funcs = nil
	for _, f := range pt.Funcs {
		if left[f.Name] {
			rest.Funcs = append(rest.Funcs, f)
		}
	}
	g.again = append(g.again, &rest)
}
