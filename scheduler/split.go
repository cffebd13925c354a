package scheduler

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SplitSubtests takes out of pkgs the top-level tests worth running in
// parts below the top level, and returns the rest of pkgs for Plan plus the
// parts as units. A test is split when the history knows at least two of
// its direct subtests and the test alone is longer than a unit should be
// (its share of all work across workers × UnitsPerWorker) and than ten
// process start-ups: its known subtests are spread over parts balanced by
// their durations, each part a process that runs the parent with only its
// subtests (-test.run=^T$/^(a|b)$), plus one part that runs the parent
// with every known subtest skipped, so that subtests the history does not
// know yet (and the parent's own code) still run exactly once. The
// parent's setup repeats in every part: that cost, measured as the
// parent's time beyond its subtests, is counted in each part's estimate.
//
// Names are the history's, one level each, as the binary reports them
// (spaces rewritten, #01 duplicates), which is what -test.run matches; a
// t.Run("a/b") is two levels, so the part selecting "a" runs it. A name
// defined twice at the top level (package and _test package) is never split.
func SplitSubtests(pkgs []*PackageTests, hist *History, workers int, opts PlanOptions) (rest []*PackageTests, parts []*Unit) {
	opts.defaults()
	workers = max(workers, 1)
	var total time.Duration
	for _, pt := range pkgs {
		for _, n := range pt.Names() {
			if d, ok := hist.Estimate(pt.Pkg.ImportPath, n); ok {
				total += d
			}
		}
	}
	target := total / time.Duration(workers*opts.UnitsPerWorker)
	id := 1 << 30 // apart from Plan's ids
	for _, pt := range pkgs {
		ip := pt.Pkg.ImportPath
		if hist.Whole(ip) {
			rest = append(rest, pt)
			continue
		}
		ph := hist.Package(ip)
		startup, _ := hist.Startup(ip)
		split := map[string]bool{}
		for _, name := range pt.Names() {
			if ph == nil || ph.Tests[name] == nil || count(pt, name) != 1 {
				continue
			}
			th := ph.Tests[name]
			est := th.EWMA
			if len(th.Subtests) < 2 || est <= target || est <= 10*startup || target <= 0 {
				continue
			}
			type sub struct {
				name string
				est  time.Duration
			}
			var subs []sub
			var subTotal time.Duration
			for n, sh := range th.Subtests {
				subs = append(subs, sub{n, sh.EWMA})
				subTotal += sh.EWMA
			}
			overhead := max(est-subTotal, 0) // the parent's own setup, repeated per part
			groups := min(len(subs), workers, int((est+target-1)/target))
			if groups < 2 {
				continue
			}
			// Longest first onto the lightest part.
			slices.SortFunc(subs, func(a, b sub) int {
				if c := cmp.Compare(b.est, a.est); c != 0 {
					return c
				}
				return cmp.Compare(a.name, b.name)
			})
			names := make([][]string, groups)
			loads := make([]time.Duration, groups)
			var known []string
			for _, s := range subs {
				g := slices.Index(loads, slices.Min(loads))
				names[g] = append(names[g], s.name)
				loads[g] += s.est
				known = append(known, s.name)
			}
			slices.Sort(known)
			for g := range groups {
				slices.Sort(names[g])
				e := loads[g] + overhead
				parts = append(parts, &Unit{ID: id, Pkg: pt.Pkg, Tests: []string{name}, TestEstimates: []time.Duration{e},
					Startup: startup, Estimate: startup + e, Subtests: names[g], Parts: groups + 1})
				id++
			}
			parts = append(parts, &Unit{ID: id, Pkg: pt.Pkg, Tests: []string{name}, TestEstimates: []time.Duration{overhead},
				Startup: startup, Estimate: startup + overhead, SkipSubtests: known, Parts: groups + 1})
			id++
			split[name] = true
		}
		if len(split) == 0 {
			rest = append(rest, pt)
			continue
		}
		left := &PackageTests{Pkg: pt.Pkg, HasTestMain: pt.HasTestMain}
		for _, f := range pt.Funcs {
			if !split[f.Name] {
				left.Funcs = append(left.Funcs, f)
			}
		}
		if len(left.Funcs) > 0 {
			rest = append(rest, left)
		}
	}
	return rest, parts
}

// count is how many functions of pt have name (two when the package and its
// _test package both define it: such a name is never split).
func count(pt *PackageTests, name string) int {
	n := 0
	for _, f := range pt.Funcs {
		if f.Name == name {
			n++
		}
	}
	return n
}

// SubtestPattern is the -test.run value of a part: the parent exactly and
// the given direct subtests exactly; SubtestSkip the -test.skip alternative
// of the part that skips them.
func SubtestPattern(parent string, subs []string) string {
	return "^" + regexp.QuoteMeta(parent) + "$/^(" + quoteAll(subs) + ")$"
}

// SubtestSkip combines the user's -skip with the skip of the known subtests.
func SubtestSkip(userSkip, parent string, subs []string) string {
	ours := SubtestPattern(parent, subs)
	if userSkip == "" {
		return ours
	}
	return userSkip + "|" + ours
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(q, "|")
}
