package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/scheduler"
	"github.com/godist/godist/testcache"
)

// The result cache (package testcache), with go test's rules: a command
// line go test would cache (Config.CacheKeyArgs), a package whose test
// binary and consulted inputs are unchanged since a passing run, is not
// run: its stored stream is replayed in go test's cached form
// ("ok  \tpkg\t(cached)"). The lookup comes before the build, by the
// binary's identity without linking (testcache.LinkKeys), so a cached
// package costs neither a link nor a process. A package that runs has
// every process write its testlog (-test.testlogfile); a passing package
// is stored under its link-level key and its binary's content ID, with
// the union of its processes' inputs.
//
// Not cached, beyond go test's rules: a run split into shards (--shard:
// a shard holds part of a package) or run on every worker (--dist each),
// a package with a failed attempt anywhere in its stream (a confirm run's
// first failure, a --rerun-fails rerun), processes that ran from a bundle
// on another machine (their testlog stays there), and, for now, runs with
// -coverprofile.
type resultCache struct {
	c       *testcache.Cache
	keyArgs []string
	links   map[string]testcache.PackageKey // import path -> the binary's identity before linking
}

// cacheable says whether results of this run may come from a cache and
// go to one: a command line go test would cache, GODIST_CACHE not "off",
// and none of the run shapes godist cannot cache (see above).
func (r *testRun) cacheable() bool {
	o := r.opts
	if o.CacheKeyArgs == nil || o.ShardCount > 1 || o.Dist == DistEach || o.CoverProfile != "" || o.ListSet {
		return false
	}
	return o.CacheDir != "" || os.Getenv("GODIST_CACHE") != "off"
}

// openCache opens the result cache for this run, or returns nil when the
// run is not cacheable. A cache that cannot be used is said once and the
// run goes on without it.
func (r *testRun) openCache(ctx context.Context) *resultCache {
	o := r.opts
	if !r.cacheable() {
		return nil
	}
	dir := o.CacheDir
	if dir == "" {
		d, err := testcache.DefaultDir()
		if err != nil {
			fmt.Fprintf(r.stderr, "godist: result cache: %v\n", err)
			return nil
		}
		dir = d
	}
	c, err := testcache.Open(dir, testcache.Options{Portable: o.CachePortable})
	if err != nil {
		fmt.Fprintf(r.stderr, "godist: result cache: %v\n", err)
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	var flags []string
	for _, f := range r.buildFlags() {
		if !strings.HasPrefix(f, "-vet=") { // a go test flag, not a build flag
			flags = append(flags, f)
		}
	}
	links, err := testcache.LinkKeys(ctx, testcache.KeyQuery{Dir: wd, BuildFlags: flags, Packages: o.Packages})
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(r.stderr, "godist: result cache: %v\n", err)
		}
		return nil
	}
	return &resultCache{c: c, keyArgs: o.CacheKeyArgs, links: links}
}

func (rc *resultCache) pkg(path string) (testcache.PackageKey, testcache.Package, bool) {
	pk, ok := rc.links[path]
	if !ok || pk.Binary == (testcache.ID{}) || pk.Root == "" {
		return pk, testcache.Package{}, false
	}
	return pk, testcache.Package{ImportPath: path, Dir: pk.Dir, Root: pk.Root}, true
}

// replayCached reports every package of pts whose result the cache holds,
// as go test reports a cached package, and returns the others.
func (r *testRun) replayCached(pts []*scheduler.PackageTests) []*scheduler.PackageTests {
	rc := r.cache
	if rc == nil {
		return pts
	}
	var rest []*scheduler.PackageTests
	for _, pt := range pts {
		path := pt.Pkg.ImportPath
		pk, where, ok := rc.pkg(path)
		if !ok || pt.Pkg.Error != nil {
			rest = append(rest, pt)
			continue
		}
		e, err := rc.c.Get(testcache.NewKey(pk.Binary, rc.keyArgs), where, false)
		if err != nil {
			rest = append(rest, pt)
			continue
		}
		events, err := replayEvents(e)
		if err != nil {
			rest = append(rest, pt)
			continue
		}
		r.update(path, func(p *pkgRun) {
			p.cached = true
			r.stats.CachedPackages++
		})
		result := r.pkgs[path].merger.Cached(events)
		r.update(path, func(p *pkgRun) { p.result = result })
	}
	return rest
}

// replayBinary is the cache's second lookup, once package path's binary
// is linked: by the binary's content ID, which an edit that changes a
// package's archive but not the linked binary leaves as it was (go test's
// second level). On a hit the package is reported from the cache and
// none of its units runs.
func (r *testRun) replayBinary(path, binary string) bool {
	rc := r.cache
	if rc == nil {
		return false
	}
	_, where, ok := rc.pkg(path)
	if !ok {
		return false
	}
	var resumed bool
	r.update(path, func(p *pkgRun) { resumed = p.resumed })
	if resumed {
		return false
	}
	id, err := testcache.ContentID(binary)
	if err != nil {
		return false
	}
	e, err := rc.c.Get(testcache.NewKey(id, rc.keyArgs), where, false)
	if err != nil {
		return false
	}
	events, err := replayEvents(e)
	if err != nil {
		return false
	}
	r.update(path, func(p *pkgRun) {
		p.cached, p.waiting = true, false
		r.stats.CachedPackages++
	})
	result := r.pkgs[path].merger.Cached(events)
	r.update(path, func(p *pkgRun) { p.result = result })
	return true
}

// replayEvents is a cached entry's stream in go test's cached form.
func replayEvents(e *testcache.Entry) ([]collector.Event, error) {
	replay, err := testcache.Replay(e.Events, time.Now())
	if err != nil {
		return nil, err
	}
	return collector.ReadEvents(bytes.NewReader(replay))
}

// maxCachedStream bounds the stream a package's run may have to be cached:
// a run that prints more is not held in memory for the cache, and runs
// again next time (go test caches any size).
const maxCachedStream = 64 << 20

// record keeps one event of the package's stream as its merger emits it.
func (s *streamRec) record(e collector.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bad || isWorkerAttr(e) {
		return
	}
	b, err := json.Marshal(e)
	if err != nil || e.Action == "fail" {
		s.bad, s.data = true, nil // a failed attempt: not a clean passing run
		return
	}
	if len(s.data)+len(b) >= maxCachedStream {
		s.bad, s.data = true, nil // not held in memory for the cache
		return
	}
	s.data = append(append(s.data, b...), '\n')
	if e.IsPackageEnd() && e.Elapsed != nil {
		s.elapsed = time.Duration(*e.Elapsed * float64(time.Second))
	}
}

// isWorkerAttr reports whether e names the worker that ran a test (an
// attr event or its "=== ATTR" line): nothing a replay, which runs on no
// worker, should repeat.
func isWorkerAttr(e collector.Event) bool {
	if e.Action == "attr" {
		return e.Key == collector.WorkerAttr
	}
	return e.Action == "output" && e.Test != "" && strings.HasPrefix(e.Output, "=== ATTR  ") &&
		strings.HasPrefix(strings.TrimPrefix(e.Output, "=== ATTR  "+e.Test+" "), collector.WorkerAttr+" ")
}

// take returns the whole stream, nil if it is not one to store, and
// forgets it.
func (s *streamRec) take() ([]byte, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := s.data
	s.data = nil
	if s.bad {
		return nil, 0
	}
	return data, s.elapsed
}

// noteTestlog adds one process's testlog to package key's inputs.
func (r *testRun) noteTestlog(key, file, dir string) {
	if file == "" {
		return
	}
	log, err := testcache.ReadLog(file, dir)
	os.Remove(file)
	r.update(key, func(p *pkgRun) {
		if err != nil {
			p.noCache = true // -list, or a binary that never reached m.Run
			return
		}
		if p.inputs == nil {
			p.inputs = &testcache.Log{}
		}
		p.inputs.Merge(log)
	})
}

// storeCached stores package key's run in the cache if it passed cleanly.
func (r *testRun) storeCached(key string) {
	rc := r.cache
	if rc == nil {
		return
	}
	p := r.pkgs[key]
	pk, where, ok := rc.pkg(p.path)
	if !ok {
		return
	}
	stream, elapsed := p.stream.take()
	var inputs *testcache.Log
	var binary string
	r.update(key, func(p *pkgRun) {
		if p.result == "pass" && !p.noCache && !p.cached && p.binary != "" {
			inputs, binary = p.inputs, p.binary
		}
	})
	if stream == nil || inputs == nil {
		return
	}
	keys := []testcache.Key{testcache.NewKey(pk.Binary, rc.keyArgs)}
	if id, err := testcache.ContentID(binary); err == nil {
		keys = append(keys, testcache.NewKey(id, rc.keyArgs))
	}
	e := &testcache.Entry{Events: stream, Coverage: testcache.CoverageOf(stream), Elapsed: elapsed}
	err := rc.c.Put(where, inputs, e, keys...)
	if err != nil && !errors.Is(err, testcache.ErrFileTooNew) {
		r.cacheErr.Do(func() { fmt.Fprintf(r.stderr, "godist: result cache: %v\n", err) })
	}
}
