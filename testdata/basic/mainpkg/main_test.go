// Package mainpkg has a TestMain that prints a line before and after m.Run.
package mainpkg

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

func TestInMain(t *testing.T) {
	t.Log("test under TestMain")
}

func TestInMain2(t *testing.T) {}
