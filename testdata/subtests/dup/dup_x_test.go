package dup_test

import (
	"testing"
	"time"
)

func Test(t *testing.T) {
	for _, n := range []string{"x1", "x2", "x3"} {
		t.Run(n, func(t *testing.T) { time.Sleep(100 * time.Millisecond) })
	}
}
