// Package reader reads a file outside its own directory: workers on
// another filesystem get it only with godist --rsyncdir shared/data.
package reader

import (
	"os"
	"strings"
	"testing"
)

func TestSharedFile(t *testing.T) {
	b, err := os.ReadFile("../data/greeting.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "hello") {
		t.Errorf("greeting.txt holds %q", b)
	}
}
