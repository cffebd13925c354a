package report

import (
	"strings"

	"github.com/godist/godist/collector"
)

// WithoutWorkerLines returns a Renderer passing every event to r but the
// "=== ATTR  TestX godist.worker gw3" output lines that name the worker of
// a test. Where people read failures (gotestsum's formats and summary,
// JUnit failure texts) such a line is noise: in github-actions it made a
// collapsible group of every passing test, and it led every failure body.
// The attribution stays where it is data: the attr event itself (so
// JUnit's test case properties), the -json stream and go test's -v text,
// which do not go through this filter. Attributes a test sets itself with
// t.Attr are the test's output and pass.
func WithoutWorkerLines(r Renderer) Renderer { return workerLineFilter{r} }

type workerLineFilter struct{ Renderer }

func (f workerLineFilter) Event(e collector.Event) error {
	if isWorkerLine(e) {
		return nil
	}
	return f.Renderer.Event(e)
}

// isWorkerLine reports whether e is the output line of the worker
// attribute of its own test (collector's workerAttrLine).
func isWorkerLine(e collector.Event) bool {
	return e.Action == "output" && e.Test != "" &&
		strings.HasPrefix(e.Output, "=== ATTR  "+e.Test+" "+collector.WorkerAttr+" ") &&
		strings.HasSuffix(e.Output, "\n") && strings.Count(e.Output, "\n") == 1
}

// WithoutShardManifest returns a Renderer passing every event to r but
// those of a CI shard's manifest (collector.IsShardManifest): they are
// data for `godist merge`, in the -json stream only.
func WithoutShardManifest(r Renderer) Renderer { return manifestFilter{r} }

type manifestFilter struct{ Renderer }

func (f manifestFilter) Event(e collector.Event) error {
	if collector.IsShardManifest(e) {
		return nil
	}
	return f.Renderer.Event(e)
}
