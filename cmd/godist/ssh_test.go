package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/bundle"
	"github.com/godist/godist/internal/sshtest"
)

// TestSSHWorkers runs a fixture's tests on two ssh workers reached through
// a real OpenSSH server on loopback, from a worker directory that is not the
// source tree: the worker binary is shipped once over ssh, the test bundles
// (binary, package files, testdata) once per machine, nothing on a second
// run, and the results equal go test's.
func TestSSHWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end over ssh")
	}
	s := sshtest.Start(t, "")
	dir := fixture(t, "basic")
	args := []string{"./pass/", "./fail/", "./names/", "./many/", "./files/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, args...)...)
	tmp := t.TempDir()
	hist := filepath.Join(tmp, "h.json")
	spec := "2*" + s.Spec("//chdir="+filepath.Join(tmp, "workdir"))
	shipped := func(run int) int64 {
		stats := filepath.Join(tmp, "stats.json")
		got := runIn(t, dir, nil, godist(t), append([]string{"--history", hist, "--stats", stats, "-json", "-n", "0", "--tx", spec}, args...)...)
		if got.code != want.code {
			t.Errorf("run %d: exit code %d, want %d\nstderr:\n%s", run, got.code, want.code, got.stderr)
		}
		diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
		return readStats(t, stats).BytesShipped
	}
	// Left from runs long ago: a bundle not used for 30 days and a
	// transfer that died; storing a new bundle prunes both.
	old := time.Now().Add(-30 * 24 * time.Hour)
	stale := filepath.Join(s.Cache, "godist", "bundles", "0123456789abcdef0123456789abcdef")
	dead := filepath.Join(s.Cache, "godist", "bundles", "fedcba9876543210fedcba9876543210.tmp-1")
	for _, d := range []string{stale, dead} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(stale, ".complete"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(stale, ".complete"), old, old)
	os.Chtimes(dead, old, old)
	if first := shipped(1); first == 0 {
		t.Error("first run shipped no test bundle")
	}
	if second := shipped(2); second != 0 {
		t.Errorf("second run with nothing changed shipped %d bytes", second)
	}
	for _, d := range []string{stale, dead} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s was not pruned (%v)", filepath.Base(d), err)
		}
	}
	// One worker binary and one bundle per package in the remote cache.
	ents, err := os.ReadDir(filepath.Join(s.Cache, "godist", "bin"))
	if err != nil || len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "godist-") {
		t.Errorf("remote worker binaries: %v %v", ents, err)
	}
	bundles, err := os.ReadDir(filepath.Join(s.Cache, "godist", "bundles"))
	if err != nil || len(bundles) != len(args) {
		t.Errorf("remote bundles: %d for %d packages (%v)", len(bundles), len(args), err)
	}
	if _, err := os.Stat(filepath.Join(s.Cache, "godist", "bundles")); err == nil {
		found := false
		filepath.WalkDir(filepath.Join(s.Cache, "godist", "bundles"), func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, filepath.Join(bundle.PkgDir, "testdata", "input.txt")) {
				found = true
			}
			return nil
		})
		if !found {
			t.Error("the files package's testdata was not shipped")
		}
	}

	// A test reading ../data/greeting.txt has it on the worker only with
	// --rsyncdir (and the second run ships nothing again).
	for i, extra := range [][]string{nil, {"--rsyncdir", "shared/data"}, {"--rsyncdir", "shared/data"}} {
		stats := filepath.Join(tmp, "stats.json")
		got := runIn(t, dir, nil, godist(t), append(append([]string{"--history", hist, "--stats", stats, "-json", "--tx", spec}, extra...), "./shared/reader/")...)
		wantCode := 0
		if extra == nil {
			wantCode = 1
		}
		if got.code != wantCode || (extra == nil) != strings.Contains(got.stdout, "greeting.txt: no such file") {
			t.Errorf("run %d (%q): exit code %d, want %d\n%s%s", i, extra, got.code, wantCode, got.stdout, got.stderr)
		}
		if n := readStats(t, stats).BytesShipped; i == 2 && n != 0 {
			t.Errorf("a second --rsyncdir run with nothing changed shipped %d bytes", n)
		}
	}
}
