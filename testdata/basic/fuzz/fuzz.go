// Package fuzz has a fuzz target whose seed corpus go test runs as tests.
package fuzz

// Reverse reverses b.
func Reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}
