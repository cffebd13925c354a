package scheduler

import (
	"cmp"
	"hash/fnv"
	"slices"
	"time"
)

// Shard keeps the part of pkgs that shard index (0-based) of count runs, for
// CI matrices: every top-level test goes to exactly one shard, balanced by
// expected duration so that shards finish together. The split depends only
// on pkgs and hist, so every shard must see the same history file (restore
// one cache in all CI jobs); without history, tests are spread by a hash of
// their names, which needs nothing shared. A package keeps its place (and
// its test-less or failing build is reported) only in the shards that have
// some of its tests, or in shard 0 when none has.
func Shard(pkgs []*PackageTests, hist *History, index, count int) []*PackageTests {
	if count <= 1 {
		return pkgs
	}
	type item struct {
		pkg  int
		name string
		est  time.Duration
	}
	var items []item
	for i, pt := range pkgs {
		for _, name := range pt.Names() {
			est, ok := hist.Estimate(pt.Pkg.ImportPath, name)
			if !ok {
				est = -1
			}
			items = append(items, item{i, name, est})
		}
	}
	type key struct {
		pkg  int
		name string
	}
	owner := map[key]int{}
	known := slices.ContainsFunc(items, func(it item) bool { return it.est >= 0 })
	if known {
		// Longest first onto the least loaded shard (LPT), ties by name.
		slices.SortFunc(items, func(a, b item) int {
			if c := cmp.Compare(b.est, a.est); c != 0 {
				return c
			}
			if c := cmp.Compare(pkgs[a.pkg].Pkg.ImportPath, pkgs[b.pkg].Pkg.ImportPath); c != 0 {
				return c
			}
			return cmp.Compare(a.name, b.name)
		})
		load := make([]time.Duration, count)
		for _, it := range items {
			est := max(it.est, time.Millisecond) // unknown tests count a little
			s := slices.Index(load, slices.Min(load))
			load[s] += est
			owner[key{it.pkg, it.name}] = s
		}
	} else {
		for _, it := range items {
			h := fnv.New32a()
			h.Write([]byte(pkgs[it.pkg].Pkg.ImportPath + "\x00" + it.name))
			owner[key{it.pkg, it.name}] = int(h.Sum32() % uint32(count))
		}
	}
	var out []*PackageTests
	for i, pt := range pkgs {
		keep := &PackageTests{Pkg: pt.Pkg, HasTestMain: pt.HasTestMain}
		for _, f := range pt.Funcs {
			if owner[key{i, f.Name}] == index {
				keep.Funcs = append(keep.Funcs, f)
			}
		}
		if len(keep.Funcs) > 0 || (len(pt.Funcs) == 0 && index == 0) {
			out = append(out, keep)
		}
	}
	return out
}
