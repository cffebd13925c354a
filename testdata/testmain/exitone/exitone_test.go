// Package exitone's TestMain exits 1 after every test passed (a leak
// check, say): go test fails the package.
package exitone

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if code := m.Run(); code != 0 {
		os.Exit(code)
	}
	fmt.Println("leak check: 1 goroutine left")
	os.Exit(1)
}

func TestA(t *testing.T) {}

func TestB(t *testing.T) {}
