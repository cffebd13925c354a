package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/godist/godist/gotool"
)

func TestSplitSubtests(t *testing.T) {
	pkg := &gotool.Package{ImportPath: "example.com/p"}
	pt := &PackageTests{Pkg: pkg, Funcs: []TestFunc{{Name: "TestBig"}, {Name: "TestSmall"}, {Name: "TestSlashes"}}}
	h := NewHistory("")
	h.Record(pkg.ImportPath, ProcessResult{Startup: time.Millisecond, Tests: []TestResult{
		{"TestBig/a", time.Second}, {"TestBig/b", time.Second}, {"TestBig/c", time.Second}, {"TestBig/d", time.Second},
		{"TestBig", 4100 * time.Millisecond},
		{"TestSmall/x", time.Millisecond}, {"TestSmall/y", time.Millisecond}, {"TestSmall", 2 * time.Millisecond},
		{"TestSlashes/a/b", time.Second}, {"TestSlashes/c", time.Second}, {"TestSlashes", 2 * time.Second},
	}})
	rest, parts := SplitSubtests([]*PackageTests{pt}, h, 4, PlanOptions{})
	if len(rest) != 1 || !slices.Equal(rest[0].Names(), []string{"TestSmall"}) {
		t.Fatalf("rest %v", rest)
	}
	// "a/b" is two levels: the part selecting "a" runs it.
	var slashes []string
	parts = slices.DeleteFunc(parts, func(u *Unit) bool {
		if u.Tests[0] == "TestSlashes" {
			slashes = append(slashes, u.Subtests...)
			return true
		}
		return false
	})
	if slices.Sort(slashes); !slices.Equal(slashes, []string{"a", "c"}) {
		t.Errorf("TestSlashes parts %v", slashes)
	}
	var subs, skipped []string
	for _, u := range parts {
		if u.Tests[0] != "TestBig" || u.Parts != len(parts) {
			t.Errorf("part %v: tests %v, parts %d of %d", u, u.Tests, u.Parts, len(parts))
		}
		subs = append(subs, u.Subtests...)
		if len(u.SkipSubtests) > 0 {
			skipped = u.SkipSubtests
		}
		if u.Estimate < 100*time.Millisecond {
			t.Errorf("part %v does not count the parent's setup: %v", u.Subtests, u.Estimate)
		}
	}
	slices.Sort(subs)
	if all := []string{"a", "b", "c", "d"}; !slices.Equal(subs, all) || !slices.Equal(skipped, all) {
		t.Errorf("parts run %v and the rest skips %v, want each of %v once", subs, skipped, all)
	}
	if len(parts) != 5 {
		t.Errorf("%d parts, want 4 of one subtest each and the rest", len(parts))
	}
	if got := SubtestPattern("TestX", []string{"a+b", "[1]"}); got != `^TestX$/^(a\+b|\[1\])$` {
		t.Errorf("pattern %q", got)
	}
	if got := SubtestSkip("TestY", "TestX", []string{"a"}); got != `TestY|^TestX$/^(a)$` {
		t.Errorf("skip %q", got)
	}
}
