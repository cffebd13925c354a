// Package examples has Example functions.
package examples

// Hello returns a greeting.
func Hello(name string) string { return "hello, " + name }
