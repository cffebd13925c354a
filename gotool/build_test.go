package gotool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBinaryName(t *testing.T) {
	a, b := BinaryName("example.com/mod/b/util"), BinaryName("example.com/mod/c/util")
	if a == b {
		t.Fatalf("same name %q", a)
	}
	// Paths that sanitise alike still differ by their hash.
	if BinaryName("x/a_b") == BinaryName("x/a/b") {
		t.Fatal("sanitised collision")
	}
	if !strings.HasPrefix(a, "example.com_mod_b_util-") || filepath.Base(a) != a {
		t.Errorf("name %q", a)
	}
}

func TestBuildAll(t *testing.T) {
	pkgs := fixturePkgs(t)
	out := t.TempDir()
	var reqs []BuildRequest
	for _, ip := range []string{"example.com/mod/b/util", "example.com/mod/c/util", "example.com/mod/broken", "example.com/mod/notests", "example.com/mod/vetfail", "example.com/mod/badsig", "example.com/mod/withmain"} {
		reqs = append(reqs, BuildRequest{Pkg: pkgs[ip], Dir: fixtureDir(t), OutDir: out, Env: fixtureEnv()})
	}
	gone, err := Load(context.Background(), LoadConfig{Dir: fixtureDir(t), Patterns: []string{"example.com/mod/gone"}, Env: fixtureEnv()})
	if err != nil || len(gone) != 1 || gone[0].Error == nil {
		t.Fatalf("load of a missing package: %v %+v", err, gone)
	}
	reqs = append(reqs, BuildRequest{Pkg: gone[0], Dir: fixtureDir(t), OutDir: out, Env: fixtureEnv()})
	results := map[string]BuildResult{}
	var mu sync.Mutex
	BuildAll(context.Background(), reqs, 0, func(r BuildResult) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := results[r.Pkg.ImportPath]; dup {
			t.Errorf("%s delivered twice", r.Pkg.ImportPath)
		}
		results[r.Pkg.ImportPath] = r
		t.Logf("%-28s %8v err=%v", r.Pkg.ImportPath, r.Duration.Round(1e6), r.Err)
	})
	if len(results) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(results), len(reqs))
	}
	// Same last element, different binaries, each runs its own test.
	for ip, test := range map[string]string{"example.com/mod/b/util": "TestB", "example.com/mod/c/util": "TestC"} {
		r := results[ip]
		if r.Err != nil || r.Binary == "" {
			t.Fatalf("%s: %v %s", ip, r.Err, r.Output)
		}
		got, err := exec.Command(r.Binary, "-test.v=test2json", "-test.run=^"+test+"$").CombinedOutput()
		if err != nil || !strings.Contains(string(got), "--- PASS: "+test) {
			t.Errorf("%s: %v\n%s", ip, err, got)
		}
	}
	if results["example.com/mod/b/util"].Binary == results["example.com/mod/c/util"].Binary {
		t.Error("binaries collide")
	}
	var be *BuildError
	for ip, want := range map[string]string{
		"example.com/mod/broken":  `cannot use "not an int"`,
		"example.com/mod/vetfail": "fmt.Printf format %d has arg",
		"example.com/mod/badsig":  "wrong signature for TestBad",
		"example.com/mod/gone":    "example.com/mod/gone",
	} {
		r := results[ip]
		if !errors.As(r.Err, &be) || r.Binary != "" || !strings.Contains(r.Output, want) || !strings.Contains(be.Output, want) {
			t.Errorf("%s: err=%v binary=%q output:\n%s\nwant it to contain %q", ip, r.Err, r.Binary, r.Output, want)
		}
	}
	for ip, want := range map[string]bool{"example.com/mod/broken": false, "example.com/mod/vetfail": false, "example.com/mod/badsig": true, "example.com/mod/gone": true} {
		if r := results[ip]; r.SetupFailed != want || strings.Contains(r.Output, "FAIL") {
			t.Errorf("%s: SetupFailed=%v, want %v; output %q", ip, r.SetupFailed, want, r.Output)
		}
	}
	// The build events are go test -json's own.
	for ip, fb := range map[string]string{
		"example.com/mod/broken":  "example.com/mod/broken [example.com/mod/broken.test]",
		"example.com/mod/vetfail": "example.com/mod/vetfail [example.com/mod/vetfail.test]",
		"example.com/mod/badsig":  "example.com/mod/badsig.test",
	} {
		r := results[ip]
		if r.FailedBuild != fb || len(r.BuildEvents) < 2 {
			t.Errorf("%s: FailedBuild %q, events %+v", ip, r.FailedBuild, r.BuildEvents)
			continue
		}
		var text strings.Builder
		for _, e := range r.BuildEvents {
			if e.ImportPath != fb || e.Time != nil {
				t.Errorf("%s: event %+v", ip, e)
			}
			text.WriteString(e.Output)
		}
		if last := r.BuildEvents[len(r.BuildEvents)-1]; last.Action != "build-fail" || text.String() != r.Output {
			t.Errorf("%s: events do not match output %q", ip, r.Output)
		}
	}
	if r := results["example.com/mod/notests"]; !r.NoTestFiles || r.Err != nil || r.Binary != "" {
		t.Errorf("notests: %+v", r)
	}
}

func TestBuildVetOff(t *testing.T) {
	r := Build(context.Background(), BuildRequest{Pkg: fixturePkgs(t)["example.com/mod/vetfail"], Dir: fixtureDir(t), OutDir: t.TempDir(), BuildFlags: []string{"-vet=off"}, Env: fixtureEnv()})
	if r.Err != nil {
		t.Fatalf("%v\n%s", r.Err, r.Output)
	}
}

func TestBuildAllCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pkgs := fixturePkgs(t)
	reqs := []BuildRequest{
		{Pkg: pkgs["example.com/mod/b/util"], Dir: fixtureDir(t), OutDir: t.TempDir(), Env: fixtureEnv()},
		{Pkg: pkgs["example.com/mod/c/util"], Dir: fixtureDir(t), OutDir: t.TempDir(), Env: fixtureEnv()},
	}
	n := 0
	BuildAll(ctx, reqs, 1, func(r BuildResult) {
		n++
		if !errors.Is(r.Err, context.Canceled) && r.Err == nil {
			t.Errorf("%s built despite cancel", r.Pkg.ImportPath)
		}
	})
	if n != 2 {
		t.Errorf("%d results", n)
	}
}

// BuildExec stopped halfway (ctx canceled while its go command runs)
// answers every request once, with ctx's error where nothing was built,
// and leaves no process behind (the go command's group is killed).
func TestBuildExecCanceled(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := fixturePkgs(t)
	out := t.TempDir()
	var reqs []BuildRequest
	for _, ip := range []string{"example.com/mod/a", "example.com/mod/b/util", "example.com/mod/withmain"} {
		reqs = append(reqs, BuildRequest{Pkg: pkgs[ip], Dir: fixtureDir(t), OutDir: out, Env: fixtureEnv()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	seen := map[string]int{}
	BuildExec(ctx, reqs, []string{self}, 1, func(r BuildResult) {
		seen[r.Pkg.ImportPath]++
		if r.Err != nil && !errors.Is(r.Err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want a binary or ctx's error", r.Pkg.ImportPath, r.Err)
		}
	})
	for _, req := range reqs {
		if seen[req.Pkg.ImportPath] != 1 {
			t.Errorf("%s answered %d times", req.Pkg.ImportPath, seen[req.Pkg.ImportPath])
		}
	}
}
