// Package table has one big table test: almost all of the package's time
// is under one top-level function.
package table

import (
	"fmt"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	t.Log("parent setup")
	for i := range 16 {
		t.Run(fmt.Sprintf("row%02d", i), func(t *testing.T) {
			time.Sleep(100 * time.Millisecond)
			if i == 7 {
				t.Error("row 7 fails")
			}
		})
	}
}

func TestSmall(t *testing.T) {}
