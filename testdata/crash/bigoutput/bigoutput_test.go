// Package bigoutput has a test that prints 12 MiB, some of it not UTF-8,
// and fails, between two that pass: more than godist holds in memory.
package bigoutput

import (
	"fmt"
	"strings"
	"testing"
)

func TestBefore(t *testing.T) {}

func TestBigOutput(t *testing.T) {
	line := strings.Repeat("x", 1023)
	for i := range 12 << 10 {
		if i%4096 == 0 {
			fmt.Printf("line %d \xff\xfe\n", i)
			t.Logf("logged at line %d", i)
			continue
		}
		fmt.Println(line)
	}
	t.Fatal("failed after 12 MiB")
}

func TestAfter(t *testing.T) {}
