// Package a fails its second test: with -failfast go test runs no test
// after it in this package, and other packages still run.
package a

import "testing"

func TestA1(t *testing.T) {}
func TestA2(t *testing.T) { t.Fatal("fails") }
func TestA3(t *testing.T) {}
func TestA4(t *testing.T) {}
