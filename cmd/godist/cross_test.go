package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/godist/godist/bundle"
)

// TestCrossPlatformWorker: a worker of another GOARCH (a linux/386 godist,
// which this amd64 machine runs) gets test binaries cross-compiled for it
// by the controller, shipped as bundles; the results equal go test's.
func TestCrossPlatformWorker(t *testing.T) {
	t.Parallel() // waits on deadlines or a cross build: beside TestKillTimeoutAsGoTest
	if testing.Short() {
		t.Skip("cross-compiles godist and the fixture for linux/386")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs linux/amd64, which runs linux/386 binaries")
	}
	bin386 := filepath.Join(t.TempDir(), "godist386")
	build := exec.Command("go", "build", "-o", bin386, ".")
	build.Env = append(os.Environ(), "GOARCH=386")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building godist for linux/386: %v\n%s", err, out)
	}
	cache := t.TempDir()
	srv := exec.Command(bin386, "socketserver", "--listen", "127.0.0.1:0")
	srv.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	addr, _ := startServer(t, srv)

	dir := fixture(t, "basic")
	args := []string{"./pass/", "./fail/", "./files/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, args...)...)
	got := runGodist(t, dir, append([]string{"-json", "-n", "0", "--tx", "2*socket=" + addr}, args...)...)
	if got.code != want.code {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", got.code, want.code, got.stderr)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
	// The bundles hold 386 binaries.
	bins, _ := filepath.Glob(filepath.Join(cache, "godist", "bundles", "*", bundle.Binary))
	if len(bins) != len(args) {
		t.Fatalf("%d bundles with a binary, want %d", len(bins), len(args))
	}
	for _, b := range bins {
		f, err := elf.Open(b)
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != elf.EM_386 {
			t.Errorf("%s is for %v, want EM_386", b, f.Machine)
		}
		f.Close()
	}
}
