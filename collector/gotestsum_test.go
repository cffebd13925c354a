package collector

import (
	"bytes"
	"encoding/json"
	"testing"

	"gotest.tools/gotestsum/testjson"
)

// gotestsumCounts scans a stream with gotestsum's parser, as
// `gotestsum --raw-command -- godist -json` would.
func gotestsumCounts(t *testing.T, events []Event) map[string]int {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	exec, err := testjson.ScanTestOutput(testjson.ScanConfig{Stdout: &buf, Handler: nopHandler{}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]int{
		"total":    exec.Total(),
		"failed":   len(exec.Failed()),
		"skipped":  len(exec.Skipped()),
		"errors":   len(exec.Errors()),
		"packages": len(exec.Packages()),
	}
}

type nopHandler struct{}

func (nopHandler) Event(testjson.TestEvent, *testjson.Execution) error { return nil }
func (nopHandler) Err(string) error                                    { return nil }
