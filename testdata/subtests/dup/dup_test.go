package dup

import (
	"testing"
	"time"
)

// Test is defined here and in the external test package, as in grpc.
func Test(t *testing.T) {
	for _, n := range []string{"in1", "in2", "in3"} {
		t.Run(n, func(t *testing.T) { time.Sleep(100 * time.Millisecond) })
	}
}
