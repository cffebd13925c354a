package scheduler

import (
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/godist/godist/gotool"
)

// Dist is godist's --dist mode as far as planning goes.
type Dist int

const (
	// DistLoad plans at the test level: packages are split into batches
	// of top-level tests balanced by expected duration.
	DistLoad Dist = iota
	// DistLoadPkg plans one unit per package, like go test.
	DistLoadPkg
)

// Unit is one process of one package's test binary running a batch of
// top-level tests (run it with -test.run=Filter.RunArg(u.Tests)).
type Unit struct {
	ID  int // unique within one Plan and its requeues
	Pkg *gotool.Package
	// Tests are top-level names in run order. Empty: run the binary with
	// no test selected (the package has test files but -run selects
	// nothing, or it has none); go test does the same and prints
	// "[no tests to run]", after TestMain's output.
	Tests []string
	// TestEstimates[i] is the expected duration of Tests[i]; Startup the
	// expected process start-up. Estimate = Startup + their sum.
	TestEstimates []time.Duration
	Startup       time.Duration
	Estimate      time.Duration
	// Attempt is 0 for planned units, +1 for each requeue of tests that
	// did not run.
	Attempt int
	// Below the top level (SplitSubtests): a unit running part of one
	// top-level test, Tests[0]. Subtests are the direct subtests it runs
	// (-test.run=^T$/^(a|b)$); SkipSubtests, for the part that catches
	// everything else (new subtests, the parent's own code), the known
	// ones it skips. Parts is how many units share that test.
	Subtests     []string
	SkipSubtests []string
	Parts        int
	// Confirm, for a unit that runs failed tests again the way go test
	// would have run them, names those tests; Tests then holds them with
	// the tests go test runs before them in its one process, in its
	// order, which run again only for their effect on the confirmed ones.
	Confirm []string
	// stalls counts consecutive requeues in which no test of the unit ran.
	stalls int
}

func (u *Unit) String() string {
	return fmt.Sprintf("unit %d %s %v (est %v, attempt %d)", u.ID, u.Pkg.ImportPath, u.Tests, u.Estimate, u.Attempt)
}

// PlanOptions tune the cost model; zero values take the defaults.
type PlanOptions struct {
	Dist Dist
	// DefaultTest is the estimate of a test in a package without history
	// (default 10ms); in a package with some history an unknown test gets
	// the package's median.
	DefaultTest time.Duration
	// DefaultStartup is the start-up estimate of a package without history
	// (default 10ms).
	DefaultStartup time.Duration
	// UnitsPerWorker is how many units per worker planning aims for, so
	// that dynamic dispatch can even out estimation errors (default 3).
	UnitsPerWorker int
	// StartupRatio: with history, a unit's expected test time is kept at
	// least StartupRatio times its start-up cost (default 10), so start-up
	// does not dominate. Without history start-up is unknown and only the
	// unit count limits splitting.
	StartupRatio int
	// MaxPatternBytes caps the length of a unit's -test.run pattern: one
	// argument may not exceed 128 KiB on Linux, a whole command line 32 KiB
	// on Windows (default 30000).
	MaxPatternBytes int
}

func (o *PlanOptions) defaults() {
	if o.DefaultTest <= 0 {
		o.DefaultTest = 10 * time.Millisecond
	}
	if o.DefaultStartup <= 0 {
		o.DefaultStartup = 10 * time.Millisecond
	}
	if o.UnitsPerWorker <= 0 {
		o.UnitsPerWorker = 3
	}
	if o.StartupRatio <= 0 {
		o.StartupRatio = 10
	}
	if o.MaxPatternBytes <= 0 {
		o.MaxPatternBytes = 30000
	}
}

type pkgCost struct {
	pt       *PackageTests
	names    []string
	ests     []time.Duration
	work     time.Duration // sum of ests
	startup  time.Duration
	measured bool // startup known from history
}

// Plan splits the selected tests of pkgs into units for workers workers
// and returns them longest first (LPT order). Packages come in go test's
// order; a package with test files always gets at least one unit.
func Plan(pkgs []*PackageTests, hist *History, workers int, opts PlanOptions) []*Unit {
	opts.defaults()
	costs := make([]pkgCost, len(pkgs))
	var total time.Duration
	for i, pt := range pkgs {
		c := pkgCost{pt: pt, names: pt.Names()}
		ip := pt.Pkg.ImportPath
		c.startup, c.measured = hist.Startup(ip)
		if !c.measured {
			c.startup = opts.DefaultStartup
		}
		fallback, ok := hist.median(ip)
		if !ok {
			fallback = opts.DefaultTest
		}
		c.ests = make([]time.Duration, len(c.names))
		for j, n := range c.names {
			d, ok := hist.Estimate(ip, n)
			if !ok {
				d = fallback
			}
			c.ests[j] = d
			c.work += d
		}
		total += c.work
		costs[i] = c
	}
	if workers < 1 {
		workers = 1
	}
	target := total / time.Duration(workers*opts.UnitsPerWorker)
	var units []*Unit
	for _, c := range costs {
		chunks := 1
		if opts.Dist == DistLoad && workers > 1 && len(c.names) > 1 && !hist.Whole(c.pt.Pkg.ImportPath) {
			t := target
			if c.measured {
				t = max(t, time.Duration(opts.StartupRatio)*c.startup)
			}
			if t > 0 {
				chunks = int((c.work + t - 1) / t)
			}
			chunks = min(max(chunks, 1), len(c.names))
		}
		for _, r := range capPatternLength(c.names, splitContiguous(c.ests, chunks), opts.MaxPatternBytes) {
			u := &Unit{
				Pkg:           c.pt.Pkg,
				Tests:         c.names[r[0]:r[1]:r[1]],
				TestEstimates: c.ests[r[0]:r[1]:r[1]],
				Startup:       c.startup,
			}
			u.Estimate = u.Startup + sum(u.TestEstimates)
			units = append(units, u)
		}
	}
	for i, u := range units {
		u.ID = i
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].Estimate > units[j].Estimate })
	return units
}

// splitContiguous cuts ests into at most k consecutive non-empty ranges of
// about equal sums (run order inside a package is kept). An empty ests
// gives one empty range.
func splitContiguous(ests []time.Duration, k int) [][2]int {
	if len(ests) == 0 || k <= 1 {
		return [][2]int{{0, len(ests)}}
	}
	total := sum(ests)
	var ranges [][2]int
	start := 0
	var acc time.Duration
	for i, d := range ests {
		acc += d
		left := len(ests) - i - 1     // tests after i
		chunksLeft := k - len(ranges) // including the current one
		// Close the chunk when it reached its share of what is left, or
		// when each remaining chunk needs one of the remaining tests.
		share := total / time.Duration(chunksLeft)
		if chunksLeft > 1 && (acc >= share || left == chunksLeft-1) {
			ranges = append(ranges, [2]int{start, i + 1})
			total -= acc
			acc = 0
			start = i + 1
		}
	}
	if start < len(ests) {
		ranges = append(ranges, [2]int{start, len(ests)})
	}
	return ranges
}

// capPatternLength splits ranges further where the anchored pattern of
// their names would exceed limit bytes (names are counted quoted, plus the
// separator; each range keeps at least one name).
func capPatternLength(names []string, ranges [][2]int, limit int) [][2]int {
	var out [][2]int
	for _, r := range ranges {
		start, size := r[0], len("^()$")
		for i := r[0]; i < r[1]; i++ {
			n := len(regexp.QuoteMeta(names[i])) + 1
			if size+n > limit && i > start {
				out = append(out, [2]int{start, i})
				start, size = i, len("^()$")
			}
			size += n
		}
		out = append(out, [2]int{start, r[1]})
	}
	return out
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}
