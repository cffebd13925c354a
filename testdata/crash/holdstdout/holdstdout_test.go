// Package holdstdout has a test that leaves a child process holding the
// test binary's stdout after the binary exits: go test fails the package
// with "Test I/O incomplete" after its WaitDelay. Set
// GODIST_FIXTURE_HOLD=0 to leave no child.
package holdstdout

import (
	"os"
	"os/exec"
	"testing"
)

func TestLeavesChild(t *testing.T) {
	if os.Getenv("GODIST_FIXTURE_HOLD") == "0" {
		return
	}
	cmd := exec.Command("sleep", "20")
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func TestOther(t *testing.T) {}
