package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godist/godist/internal/sshtest"
)

// TestSSHWorkers runs a fixture's tests on two ssh workers reached through
// a real OpenSSH server on loopback: the worker binary is shipped once over
// ssh, and the results equal go test's.
func TestSSHWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end over ssh")
	}
	s := sshtest.Start(t, "")
	dir := fixture(t, "basic")
	args := []string{"./pass/", "./fail/", "./names/", "./many/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, args...)...)
	got := runGodist(t, dir, append([]string{"-json", "-n", "0", "--tx", "2*" + s.Spec("")}, args...)...)
	if got.code != want.code {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", got.code, want.code, got.stderr)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
	// The worker binary went into the remote cache once.
	ents, err := os.ReadDir(filepath.Join(s.Cache, "godist", "bin"))
	if err != nil || len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "godist-") {
		t.Errorf("remote cache: %v %v", ents, err)
	}
}
