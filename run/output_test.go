package run

import (
	"testing"

	"github.com/godist/godist/collector"
)

// TestTallyAddsUpToDone: per-worker counts add up to what gotestsum's DONE
// line counts (every run event of a test or subtest, reruns included).
func TestTallyAddsUpToDone(t *testing.T) {
	ev := func(action, test, value string) collector.Event {
		e := collector.Event{Action: action, Package: "p", Test: test}
		if action == "attr" {
			e.Key, e.Value = collector.WorkerAttr, value
		}
		return e
	}
	var tt testTally
	runs := 0
	for _, e := range []collector.Event{
		ev("run", "TestA", ""), ev("attr", "TestA", "gw0"),
		ev("run", "TestA/x", ""), ev("run", "TestA/y", ""),
		ev("run", "TestB", ""), ev("attr", "TestB", "gw1"),
		ev("run", "TestA", ""), ev("attr", "TestA", "gw1"), // a rerun elsewhere
		ev("run", "TestC", ""), // --worker-attr=false, or the go test path
	} {
		if e.Action == "run" {
			runs++
		}
		tt.note(e)
	}
	attributed, unattributed := tt.total()
	if attributed+unattributed != runs {
		t.Errorf("counted %d+%d tests, DONE counts %d", attributed, unattributed, runs)
	}
	if tt.byWorker["gw0"] != 3 || tt.byWorker["gw1"] != 2 || unattributed != 1 {
		t.Errorf("byWorker %v, unattributed %d; want gw0 3, gw1 2, 1", tt.byWorker, unattributed)
	}
	if got := plural(1, "process", "processes"); got != "1 process" {
		t.Errorf("plural(1) = %q", got)
	}
}
