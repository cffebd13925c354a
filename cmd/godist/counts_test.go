package main

import "testing"

// terminalCounts counts the terminal events of every test in a -json stream.
func terminalCounts(t *testing.T, stream string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for key, actions := range outcomes(t, stream) {
		n[key] = len(actions)
	}
	return n
}
