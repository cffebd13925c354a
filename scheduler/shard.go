package scheduler

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/godist/godist/collector"
)

// ShardPlan is what every shard of one split agrees on, and what `godist
// merge` checks the shards' streams against.
type ShardPlan struct {
	Index, Count int // 0-based index of this shard, of Count
	// Fingerprint identifies the split: the godist version, Count and
	// every selected top-level test of every package. Shards of the same
	// command on the same code have the same one.
	Fingerprint string
	Total       int                 // top-level tests over all shards
	Owned       map[string][]string // import path -> the tests this shard runs
}

// Shard keeps the part of pkgs that shard index (0-based) of count runs, for
// CI matrices: every top-level test goes to exactly one shard. The split
// depends on nothing but the selected tests and version (the godist
// build): not on the duration history, which CI jobs do not reliably
// share (one restores the cache, another misses it), so every job of a
// matrix makes the same partition. Tests are ordered by a SHA-256 of their
// package and name and dealt round-robin: shard sizes differ by one test
// at most, and a package's tests spread over the shards. (For balance by
// duration, a shared queue does better than any static split.) A package
// keeps its place (and its test-less or failing build is reported) only in
// the shards that have some of its tests, or in shard 0 when none has.
func Shard(pkgs []*PackageTests, version string, index, count int) ([]*PackageTests, ShardPlan) {
	plan := ShardPlan{Index: index, Count: count, Owned: map[string][]string{}}
	type item struct {
		pkg  int
		name string
		sum  [sha256.Size]byte
	}
	var items []item
	for i, pt := range pkgs {
		for _, name := range pt.Names() {
			items = append(items, item{i, name, sha256.Sum256([]byte(pt.Pkg.ImportPath + "\x00" + name))})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return bytes.Compare(a.sum[:], b.sum[:]) })
	plan.Total = len(items)

	fp := sha256.New()
	fmt.Fprintf(fp, "godist %s\x00shards %d\x00", version, count)
	type key struct {
		pkg  int
		name string
	}
	owner := map[key]int{}
	for i, it := range items {
		fp.Write(it.sum[:])
		owner[key{it.pkg, it.name}] = i % max(count, 1)
	}
	plan.Fingerprint = hex.EncodeToString(fp.Sum(nil))[:16]

	var out []*PackageTests
	for i, pt := range pkgs {
		keep := &PackageTests{Pkg: pt.Pkg, HasTestMain: pt.HasTestMain}
		for _, f := range pt.Funcs {
			if owner[key{i, f.Name}] == index {
				keep.Funcs = append(keep.Funcs, f)
			}
		}
		if names := keep.Names(); len(names) > 0 {
			plan.Owned[pt.Pkg.ImportPath] = names
		}
		if len(keep.Funcs) > 0 || (len(pt.Funcs) == 0 && index == 0) {
			out = append(out, keep)
		}
	}
	return out, plan
}

// ManifestValue is the ShardAttr value of p.
func (p ShardPlan) ManifestValue() string {
	return fmt.Sprintf("%d/%d %s %d", p.Index+1, p.Count, p.Fingerprint, p.Total)
}

// OwnedPackages are the packages where the shard owns tests, sorted.
func (p ShardPlan) OwnedPackages() []string {
	var out []string
	for pkg := range p.Owned {
		out = append(out, pkg)
	}
	slices.Sort(out)
	return out
}

// ParseManifestValue reads a ShardAttr value back.
func ParseManifestValue(v string) (ShardPlan, error) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return ShardPlan{}, fmt.Errorf("shard manifest %q: want \"I/N FINGERPRINT TOTAL\"", v)
	}
	i, n, ok := strings.Cut(f[0], "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	total, err3 := strconv.Atoi(f[2])
	if !ok || cmp.Or(err1, err2, err3) != nil || count < 1 || index < 1 || index > count || total < 0 {
		return ShardPlan{}, fmt.Errorf("shard manifest %q: want \"I/N FINGERPRINT TOTAL\"", v)
	}
	return ShardPlan{Index: index - 1, Count: count, Fingerprint: f[1], Total: total, Owned: map[string][]string{}}, nil
}

// ShardSetError is a set of -json streams that do not make one whole run:
// `godist merge` refuses it.
type ShardSetError struct {
	Problems []string // each names the files concerned
}

func (e *ShardSetError) Error() string {
	return "these streams are not one whole run:\n\t" + strings.Join(e.Problems, "\n\t")
}

// terminal reports whether action ends a test or a package.
func terminal(action string) bool { return action == "pass" || action == "fail" || action == "skip" }

// CheckShards checks the -json streams given to `godist merge` (names[i]
// is the file of streams[i]) before they are merged. Streams of `godist
// --shard I/N` carry a manifest (collector.ShardAttr): all must be of one
// split (count, fingerprint, total), each shard exactly once, together
// owning every test of the plan; each must have run what it owns (every
// package it owns tests in ended; where the package passed, every owned
// test has a result). Streams without a manifest (go test -json over
// disjoint packages) may not be mixed with shards. In every case a stream
// must hold events, and no top-level test may have results in two
// streams. Nil when the set is whole.
func CheckShards(names []string, streams [][]collector.Event) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	type shard struct {
		plan ShardPlan
		file int
	}
	var shards []shard
	var plain []string
	for i, evs := range streams {
		if len(evs) == 0 {
			add("%s: no events: not a go test -json stream (was the job's output lost?)", names[i])
			continue
		}
		var plans []ShardPlan
		owned := map[string][]string{}
		for _, e := range evs {
			if !collector.IsShardManifest(e) {
				continue
			}
			if e.Key == collector.ShardTestsAttr {
				owned[e.Package] = append(owned[e.Package], strings.Fields(e.Value)...)
				continue
			}
			p, err := ParseManifestValue(e.Value)
			if err != nil {
				add("%s: %v", names[i], err)
				continue
			}
			plans = append(plans, p)
		}
		switch len(plans) {
		case 0:
			plain = append(plain, names[i])
		case 1:
			plans[0].Owned = owned
			shards = append(shards, shard{plans[0], i})
		default:
			add("%s: holds %d shard manifests: give each shard's stream as a file of its own", names[i], len(plans))
		}
	}
	if len(shards) > 0 && len(plain) > 0 {
		add("%s: not a godist --shard stream, merged with shard streams (%s): mixed sets cannot be checked",
			strings.Join(plain, ", "), names[shards[0].file])
	}
	if len(shards) > 0 {
		first := shards[0]
		byIndex := map[int][]string{}
		for _, s := range shards {
			if s.plan.Count != first.plan.Count || s.plan.Fingerprint != first.plan.Fingerprint || s.plan.Total != first.plan.Total {
				add("%s is shard %s of another split than %s (%s): shards must come from one command, one godist build, the same code",
					names[s.file], s.plan.ManifestValue(), names[first.file], first.plan.ManifestValue())
				continue
			}
			byIndex[s.plan.Index] = append(byIndex[s.plan.Index], names[s.file])
		}
		whole := len(byIndex) == first.plan.Count
		for i := range first.plan.Count {
			switch files := byIndex[i]; {
			case len(files) == 0:
				add("shard %d/%d is missing: its tests did not run", i+1, first.plan.Count)
			case len(files) > 1:
				add("shard %d/%d is given %d times: %s", i+1, first.plan.Count, len(files), strings.Join(files, ", "))
				whole = false
			}
		}
		union := 0
		for _, s := range shards {
			for _, tests := range s.plan.Owned {
				union += len(tests)
			}
		}
		if whole && union != first.plan.Total {
			add("the shards own %d tests, their plan has %d", union, first.plan.Total)
		}
		for _, s := range shards {
			problems = append(problems, ranOwned(names[s.file], s.plan, streams[s.file])...)
		}
	}
	// No top-level test has results in two streams.
	seen := map[string]string{}
	twice := map[string][]string{} // "a and b" -> tests in both
	var pairs []string
	for i, evs := range streams {
		here := map[string]bool{}
		for _, e := range evs {
			if e.Test == "" || !terminal(e.Action) || strings.Contains(e.Test, "/") {
				continue
			}
			k := e.Package + " " + e.Test
			if here[k] {
				continue
			}
			here[k] = true
			if other, ok := seen[k]; ok {
				pair := other + " and " + names[i]
				if len(twice[pair]) == 0 {
					pairs = append(pairs, pair)
				}
				twice[pair] = append(twice[pair], e.Test+" of "+e.Package)
				continue
			}
			seen[k] = names[i]
		}
	}
	for _, pair := range pairs {
		tests := twice[pair]
		if len(tests) > 3 {
			tests = append(tests[:3:3], "...")
		}
		add("%d tests have results in both %s: %s", len(twice[pair]), pair, strings.Join(tests, ", "))
	}
	if len(problems) == 0 {
		return nil
	}
	return &ShardSetError{Problems: problems}
}

// ranOwned checks that one shard's stream ran what its manifest says it
// owns.
func ranOwned(name string, plan ShardPlan, evs []collector.Event) []string {
	var problems []string
	ended := map[string]string{} // package -> its terminal action
	ran := map[string]bool{}
	for _, e := range evs {
		if !terminal(e.Action) {
			continue
		}
		if e.Test == "" {
			ended[e.Package] = e.Action
		} else {
			ran[e.Package+" "+e.Test] = true
		}
	}
	for _, pkg := range plan.OwnedPackages() {
		action, ok := ended[pkg]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s (shard %d/%d): package %s never ended: the job was cut short", name, plan.Index+1, plan.Count, pkg))
			continue
		}
		if action != "pass" {
			continue // a failed build or run says so itself
		}
		var missing []string
		for _, test := range plan.Owned[pkg] {
			if !ran[pkg+" "+test] {
				missing = append(missing, test)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s (shard %d/%d): %s passed without running %s", name, plan.Index+1, plan.Count, pkg, strings.Join(missing, " ")))
		}
	}
	return problems
}
