// Package parallel has t.Parallel tests and subtests, one of them failing.
package parallel

import (
	"testing"
	"time"
)

func TestP1(t *testing.T) {
	t.Parallel()
	time.Sleep(200 * time.Millisecond)
	t.Log("p1 done")
}

func TestP2(t *testing.T) {
	t.Parallel()
	time.Sleep(50 * time.Millisecond)
	t.Error("p2 fails")
}

func TestSeq(t *testing.T) {
	t.Log("sequential")
}

func TestP3(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"a", "b", "c"} {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			time.Sleep(5 * time.Millisecond)
			if n == "b" {
				t.Error("sub b fails")
			}
		})
	}
}
