// Package order's second test relies on what the first left behind, in
// file order, as go test runs them: run alone, or in a process where
// TestSetup did not run first, TestUse fails.
package order

import "testing"

var state string

func TestSetup(t *testing.T) { state = "ready" }

func TestUse(t *testing.T) {
	if state != "ready" {
		t.Fatalf("state %q: TestSetup did not run before in this process", state)
	}
}

func TestIndependent(t *testing.T) {}
