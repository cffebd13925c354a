// Package exitzero's TestMain ignores m.Run's result and exits 0: go test
// reports the failing test and, going by the binary's exit status, passes
// the package.
package exitzero

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	m.Run()
	os.Exit(0)
}

func TestPasses(t *testing.T) {}

func TestFails(t *testing.T) { t.Error("fails, yet the binary exits 0") }

func TestAlsoPasses(t *testing.T) {}
