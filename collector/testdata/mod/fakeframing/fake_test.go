// Package fakeframing has passing tests whose output looks like go test's
// framing lines without being framing: go test -json takes them for plain
// output, and so must a converter of its rebuilt output.
package fakeframing

import (
	"fmt"
	"testing"
)

func TestPrintsFakeResult(t *testing.T) {
	fmt.Println("--- FAIL: TestOther (0.00s)")
	fmt.Println("=== RUN   TestGhost")
	fmt.Println("=== PAUSE TestGhost")
	fmt.Println("=== CONT  TestGhost")
	fmt.Println("=== NAME  TestGhost")
	fmt.Println("    --- FAIL: TestGhost/sub (0.00s)")
	fmt.Println("FAIL")
}

func TestAfter(t *testing.T) {
	t.Log("still reported as its own test")
	t.Run("sub", func(t *testing.T) { fmt.Println("--- SKIP: TestAfter (0.00s)") })
}

func TestSelfName(t *testing.T) {
	// A line naming the test itself, not from the testing package.
	fmt.Println("--- FAIL: TestSelfName (0.00s)")
	fmt.Println("PASS")
}
