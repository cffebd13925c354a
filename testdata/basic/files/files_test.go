// Package files has a test reading testdata/input.txt relative to the
// package directory, so it passes only when run there.
package files

import (
	"os"
	"strings"
	"testing"
)

func TestReadInput(t *testing.T) {
	b, err := os.ReadFile("testdata/input.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "fixture input" {
		t.Fatalf("input = %q", got)
	}
}
