package run

import (
	"runtime/debug"
	"strings"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/scheduler"
)

// shardManifest is the head of a shard's -json stream: what `godist merge`
// needs to check that the shards it is given are all of one split, each
// once, and that together they ran every test (collector.ShardAttr,
// collector.ShardTestsAttr). first is the run's first package, which every
// shard of the split has, even one that owns no test.
func shardManifest(first string, plan scheduler.ShardPlan) []collector.Event {
	now := time.Now()
	out := []collector.Event{{Time: &now, Action: "attr", Package: first, Key: collector.ShardAttr, Value: plan.ManifestValue()}}
	for _, pkg := range plan.OwnedPackages() {
		out = append(out, collector.Event{Time: &now, Action: "attr", Package: pkg,
			Key: collector.ShardTestsAttr, Value: strings.Join(plan.Owned[pkg], " ")})
	}
	return out
}

// buildVersion names this godist build for a shard plan's fingerprint:
// the module version and, when the build stamped it, the VCS revision.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" || (s.Key == "vcs.modified" && s.Value == "true") {
			v += " " + s.Key + "=" + s.Value
		}
	}
	return v
}
