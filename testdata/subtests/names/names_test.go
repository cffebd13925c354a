// Package names has subtests whose names are hard to select exactly.
package names

import (
	"testing"
	"time"
)

func TestAwkward(t *testing.T) {
	for _, n := range []string{"with space", "dup", "dup", "dup", "a/b", "x+y", "[1]", "(paren)", "^caret$", "plain"} {
		t.Run(n, func(t *testing.T) {
			time.Sleep(80 * time.Millisecond)
			t.Log("ran", n)
		})
	}
}
