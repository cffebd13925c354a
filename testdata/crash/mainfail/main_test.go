// Package mainfail has a TestMain that prints before and after m.Run, and a
// failing test, so the TestMain lines show in go test's non-verbose output.
package mainfail

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	fmt.Println("TestMain: before m.Run")
	code := m.Run()
	fmt.Println("TestMain: after m.Run")
	os.Exit(code)
}

func TestOK(t *testing.T) { t.Log("passes") }

func TestBad(t *testing.T) {
	t.Log("about to fail")
	t.Fail()
}
