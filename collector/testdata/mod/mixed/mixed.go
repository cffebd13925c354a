// Package mixed is a collector fixture with every kind of test outcome.
package mixed

// Add adds.
func Add(a, b int) int { return a + b }
