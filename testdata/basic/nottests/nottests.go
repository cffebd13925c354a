// Package nottests has no test files.
package nottests

// X is here so the package is not empty.
const X = 1
