package scheduler

import (
	"strings"
	"testing"

	"github.com/godist/godist/collector"
)

// TestShardPartition: for every count, the shards' tests are a partition
// of the selected tests (each in exactly one shard), sizes differ by one
// at most, every shard agrees on the fingerprint, and a package without
// tests is kept by shard 0 only.
func TestShardPartition(t *testing.T) {
	pkgs := func() []*PackageTests {
		return []*PackageTests{
			fakePkg("example.com/a", seqNames("TestA", 37)...),
			fakePkg("example.com/b", "TestOne"),
			fakePkg("example.com/empty"),
			fakePkg("example.com/c", seqNames("TestC", 12)...),
		}
	}
	for _, count := range []int{2, 3, 4, 7, 60} {
		seen := map[string]int{}
		var fp string
		lo, hi := 1<<30, 0
		for i := range count {
			kept, plan := Shard(pkgs(), "v1", i, count)
			if i == 0 {
				fp = plan.Fingerprint
			} else if plan.Fingerprint != fp {
				t.Errorf("count %d: shard %d fingerprint %s, shard 0 %s", count, i, plan.Fingerprint, fp)
			}
			if plan.Total != 50 {
				t.Errorf("count %d: Total %d, want 50", count, plan.Total)
			}
			n := 0
			for _, pt := range kept {
				if pt.Pkg.ImportPath == "example.com/empty" && i != 0 {
					t.Errorf("count %d: shard %d keeps the package without tests", count, i)
				}
				for _, name := range pt.Names() {
					seen[pt.Pkg.ImportPath+" "+name]++
					n++
				}
				if got, want := strings.Join(plan.Owned[pt.Pkg.ImportPath], " "), strings.Join(pt.Names(), " "); got != want {
					t.Errorf("count %d shard %d %s: Owned %q, kept %q", count, i, pt.Pkg.ImportPath, got, want)
				}
			}
			lo, hi = min(lo, n), max(hi, n)
		}
		if len(seen) != 50 {
			t.Errorf("count %d: %d tests in some shard, want 50", count, len(seen))
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("count %d: %s in %d shards", count, k, n)
			}
		}
		if hi-lo > 1 {
			t.Errorf("count %d: shard sizes from %d to %d", count, lo, hi)
		}
	}
	// Another godist, count or test set is another plan.
	_, base := Shard(pkgs(), "v1", 0, 4)
	_, v2 := Shard(pkgs(), "v2", 0, 4)
	_, three := Shard(pkgs(), "v1", 0, 3)
	_, fewer := Shard(pkgs()[1:], "v1", 0, 4)
	for name, p := range map[string]ShardPlan{"version": v2, "count": three, "tests": fewer} {
		if p.Fingerprint == base.Fingerprint {
			t.Errorf("another %s, same fingerprint %s", name, p.Fingerprint)
		}
	}
}

func TestManifestValueRoundTrip(t *testing.T) {
	_, plan := Shard([]*PackageTests{fakePkg("example.com/a", "TestX", "TestY")}, "v1", 1, 3)
	got, err := ParseManifestValue(plan.ManifestValue())
	if err != nil || got.Index != 1 || got.Count != 3 || got.Fingerprint != plan.Fingerprint || got.Total != 2 {
		t.Errorf("ParseManifestValue(%q) = %+v, %v", plan.ManifestValue(), got, err)
	}
	for _, bad := range []string{"", "1/3", "0/3 ab 2", "4/3 ab 2", "x/3 ab 2", "1/3 ab -1", "1/3 ab 2 extra"} {
		if _, err := ParseManifestValue(bad); err == nil {
			t.Errorf("ParseManifestValue(%q): no error", bad)
		}
	}
}

// TestCheckShardsOwnedNotRun: a shard whose package passed without running
// a test it owns (its stream lost the test) is refused; one whose package
// failed is not (the failure says so itself).
func TestCheckShardsOwnedNotRun(t *testing.T) {
	_, plan := Shard([]*PackageTests{fakePkg("example.com/a", "TestX", "TestY")}, "v1", 0, 1)
	manifest := []collector.Event{
		{Action: "attr", Package: "example.com/a", Key: collector.ShardAttr, Value: plan.ManifestValue()},
		{Action: "attr", Package: "example.com/a", Key: collector.ShardTestsAttr, Value: "TestX TestY"},
	}
	stream := func(pkgAction string) []collector.Event {
		return append(append([]collector.Event(nil), manifest...),
			collector.Event{Action: "run", Package: "example.com/a", Test: "TestX"},
			collector.Event{Action: "pass", Package: "example.com/a", Test: "TestX"},
			collector.Event{Action: pkgAction, Package: "example.com/a"})
	}
	err := CheckShards([]string{"s.json"}, [][]collector.Event{stream("pass")})
	if err == nil || !strings.Contains(err.Error(), "passed without running TestY") {
		t.Errorf("passing package without TestY: %v", err)
	}
	if err := CheckShards([]string{"s.json"}, [][]collector.Event{stream("fail")}); err != nil {
		t.Errorf("failed package: %v", err)
	}
}
