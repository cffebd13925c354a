package scheduler

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestHistoryRecordEstimate(t *testing.T) {
	h := NewHistory("")
	h.Record("p", ProcessResult{Startup: 20 * time.Millisecond, Tests: []TestResult{
		{"TestA", 100 * time.Millisecond},
		{"TestA/sub", 60 * time.Millisecond},
		{"Test", 10 * time.Millisecond}, // package's Test
		{"Test", 30 * time.Millisecond}, // _test package's Test: same name, one process
	}})
	h.Record("p", ProcessResult{Startup: 40 * time.Millisecond, Tests: []TestResult{{"TestA", 200 * time.Millisecond}}})
	if d, ok := h.Estimate("p", "TestA"); !ok || d != 150*time.Millisecond {
		t.Errorf("TestA estimate %v %v", d, ok)
	}
	if d, ok := h.Estimate("p", "Test"); !ok || d != 40*time.Millisecond {
		t.Errorf("Test estimate %v %v (want the two runs summed)", d, ok)
	}
	if d, ok := h.Startup("p"); !ok || d != 30*time.Millisecond {
		t.Errorf("startup %v %v", d, ok)
	}
	if _, ok := h.Estimate("p", "TestNew"); ok {
		t.Error("unknown test has an estimate")
	}
	ph := h.Package("p")
	if sub := ph.Tests["TestA"].Subtests["sub"]; sub == nil || sub.Last != 60*time.Millisecond {
		t.Errorf("subtest not recorded: %+v", ph.Tests["TestA"])
	}
	if d, ok := h.median("p"); !ok || d != 150*time.Millisecond {
		t.Errorf("median %v", d)
	}
}

func TestHistorySaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.json")
	h, err := LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	h.Record("p", ProcessResult{Startup: time.Millisecond, Tests: []TestResult{{"TestA", time.Second}}})
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	h2, err := LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := h2.Estimate("p", "TestA"); !ok || d != time.Second {
		t.Errorf("after reload: %v %v", d, ok)
	}
	// A corrupt file is an error but leaves a usable history, and Save
	// replaces it.
	if err := os.WriteFile(path, []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	h3, err := LoadHistory(path)
	if err == nil {
		t.Error("no error for corrupt file")
	}
	h3.Record("q", ProcessResult{Tests: []TestResult{{"TestQ", time.Second}}})
	if err := h3.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHistory(path); err != nil {
		t.Fatal(err)
	}
	if p, err := DefaultHistoryPath(); err != nil || filepath.Base(p) != "history.json" {
		t.Errorf("DefaultHistoryPath = %q, %v", p, err)
	}
}

// TestHistoryConcurrentSave stands in for several godist processes: each
// History has its own memory and shares only the file.
func TestHistoryConcurrentSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := LoadHistory(path)
			if err != nil {
				t.Error(err)
				return
			}
			for round := range 5 {
				h.Record(fmt.Sprintf("pkg%d", i), ProcessResult{Tests: []TestResult{{"TestX", time.Duration(round+1) * time.Millisecond}}})
				if err := h.Save(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	h, err := LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if ph := h.Package(fmt.Sprintf("pkg%d", i)); ph == nil || ph.Tests["TestX"].N != 5 {
			t.Errorf("pkg%d lost: %+v", i, ph)
		}
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
}
