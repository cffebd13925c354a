package run

import (
	"sync"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/gotool"
	"github.com/godist/godist/testcache"
)

// pkgRun is one reported package: an import path, or with --dist each one
// worker's copy of it (PKG@gwN). What the run knows about a package lives
// here, not in maps of its own. The fields above the line are set when the
// output opens and never change; the ones below are the run's lock's and
// change only inside testRun.update.
type pkgRun struct {
	key    string            // as reported: path + suffix
	path   string            // import path
	suffix string            // its lane's: "" or "@gwN"
	merger *collector.Merger // its stream; safe for concurrent use
	pkg    *gotool.Package
	names  []string       // its selected top-level tests in go test's order
	order  map[string]int // top-level test -> its place in names
	whole  bool           // the history says: run it as go test does (scheduler.WholeMark)

	// Under testRun.mu.
	binary     string              // the test binary, once built
	waiting    bool                // units are planned and it has not ended
	left       int                 // units not yet finished
	resumed    bool                // begun on the go test path, finished on workers
	results    []collector.Event   // run and result events, for the history
	startups   []time.Duration     // measured process start-ups
	failfastAt int                 // place of its first failed test (-failfast); -1: none
	tests      map[string]*topTest // top-level tests the run keeps something about
	running    map[*procRec]bool   // its test processes now running
	confirming bool                // its confirm run is planned (confirm.go)
	result     string              // pass or fail, once it ended
	consumed   time.Duration       // wall time of its finished processes, against -timeout (timeout.go)
	timedOut   bool                // a process of it timed out: its -timeout budget is spent
	notReached []string            // tests not run: the budget was spent (timeout.go)
	cached     bool                // replayed from the result cache (cache.go)
	noCache    bool                // not to be stored: a process without its testlog
	guard      bool                // its processes run guarded: one of them lost its worker (workers.Request.Guard)
	inputs     *testcache.Log      // what its processes consulted, for the cache
	stream     streamRec           // its events as its merger emitted them, for the cache
}

// streamRec holds a package's event stream for the result cache, under a
// lock of its own: the merger appends with its lock held.
type streamRec struct {
	mu      sync.Mutex
	data    []byte
	bad     bool // a failed attempt in it, or an event that would not encode
	elapsed time.Duration
}

// topTest is what the run keeps about one top-level test of a package.
type topTest struct {
	reruns int    // --rerun-fails runs so far
	last   string // its last outcome: pass, fail or skip
	split  bool   // run in parts below the top level

	ran         string // its outcome in the last process that ran it, as the process ended
	unconfirmed bool   // failed where go test would not have run it so (confirm.go)
	confirm     bool   // run again in the package's confirm run
}

func newPkgRun(key, suffix string, pkg *gotool.Package, m *collector.Merger, runOrder []string) *pkgRun {
	p := &pkgRun{key: key, path: pkg.ImportPath, suffix: suffix, pkg: pkg, merger: m, failfastAt: -1,
		names: runOrder, order: map[string]int{}, tests: map[string]*topTest{}, running: map[*procRec]bool{}}
	for i, name := range runOrder {
		p.order[name] = i
	}
	return p
}

// test is the record of top-level test name, made on first use.
func (p *pkgRun) test(name string) *topTest {
	t := p.tests[name]
	if t == nil {
		t = &topTest{}
		p.tests[name] = t
	}
	return t
}

// update changes the state of package key (as reported) under the run's
// lock: the one place per-package state changes, so that every reader sees
// one consistent package. f must not block or call back into the run.
func (r *testRun) update(key string, f func(p *pkgRun)) {
	p := r.pkgs[key]
	r.mu.Lock()
	defer r.mu.Unlock()
	f(p)
}

// lanePackages are the packages of lane ln, in report order.
func (r *testRun) lanePackages(ln *lane) []*pkgRun {
	var out []*pkgRun
	for _, key := range r.keys {
		if p := r.pkgs[key]; p.suffix == ln.suffix {
			out = append(out, p)
		}
	}
	return out
}
