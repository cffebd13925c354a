package report

import (
	"bytes"
	"errors"
	"testing"
)

// A formatter whose output fails stops the scan; the error reaches Event
// or Close, wrapped once, and Close still waits for the goroutine.
func TestFormatWriteError(t *testing.T) {
	r, err := NewFormat("standard-verbose", &failWriter{}, &bytes.Buffer{}, FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var evErr error
	for _, e := range crashStream("p") {
		if evErr = r.Event(e); evErr != nil {
			break
		}
	}
	cerr := r.Close()
	t.Logf("Event: %v; Close: %v", evErr, cerr)
	if !errors.Is(evErr, errWrite) && !errors.Is(cerr, errWrite) {
		t.Fatalf("Event: %v, Close: %v; want %v", evErr, cerr, errWrite)
	}
}
