package calc

import (
	"os"
	"os/exec"
	"testing"
)

// TestMain makes the binary the child TestChild starts: it exits before
// the tests, and its coverage counters go to $GOCOVERDIR as it exits.
func TestMain(m *testing.M) {
	if os.Getenv("CALC_CHILD") == "1" {
		Child(3)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestChild runs this test binary again, as a program of its own.
func TestChild(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CALC_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
