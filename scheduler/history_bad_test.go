package scheduler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A history file with null or negative entries loads with those dropped and
// named, never a nil dereference later; the good entries stay.
func TestLoadHistoryBadEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.json")
	const file = `{"version":1,"packages":{
		"p/null": null,
		"p/ok": {"startup":{"ewma":5,"last":5,"n":1},"tests":{
			"TestNull": null,
			"TestNeg": {"ewma":-1,"last":1,"n":1},
			"TestGood": {"ewma":7,"last":7,"n":1,"sub":{"x":null,"y":{"ewma":3,"last":3,"n":1}}}}}}}`
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(path)
	var bad *BadHistoryError
	if !errors.As(err, &bad) || !bad.Partial {
		t.Fatalf("LoadHistory = %v, want a partial *BadHistoryError", err)
	}
	for _, name := range []string{"p/null", "p/ok.TestNull", "p/ok.TestNeg"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if est, ok := h.Estimate("p/ok", "TestGood"); !ok || est != 7 {
		t.Errorf("Estimate(TestGood) = %v, %v; want 7ns, true", est, ok)
	}
	for _, name := range []string{"TestNull", "TestNeg"} {
		if _, ok := h.Estimate("p/ok", name); ok {
			t.Errorf("Estimate(%s) known, want dropped", name)
		}
	}
	if sub := h.Package("p/ok").Tests["TestGood"].Subtests; sub["x"] != nil || sub["y"] == nil {
		t.Errorf("subtests after sanitize = %v, want only y", sub)
	}
	// Recording and saving over it works and leaves a clean file.
	h.Record("p/ok", ProcessResult{Tests: []TestResult{{Name: "TestNull", Elapsed: 9}}})
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHistory(path); err != nil {
		t.Errorf("reload after Save: %v", err)
	}
}

// A file that is not JSON is an error that can be set aside; the next Save
// starts a good file.
func TestLoadHistoryUnparsable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.json")
	if err := os.WriteFile(path, []byte(`{"version":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(path)
	var bad *BadHistoryError
	if !errors.As(err, &bad) || bad.Partial {
		t.Fatalf("LoadHistory = %v, want a whole *BadHistoryError", err)
	}
	aside, err := bad.SetAside()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(aside); err != nil || string(b) != `{"version":1,` {
		t.Errorf("set-aside copy = %q, %v", b, err)
	}
	h.Record("p", ProcessResult{Tests: []TestResult{{Name: "TestA", Elapsed: 1}}})
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadHistory(path); err != nil {
		t.Errorf("reload after Save: %v", err)
	}
}

// A directory where the file should be is refused without reading it.
func TestLoadHistoryNotRegular(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadHistory(dir)
	var bad *BadHistoryError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "a directory") {
		t.Fatalf("LoadHistory(dir) = %v, want *BadHistoryError naming a directory", err)
	}
}
