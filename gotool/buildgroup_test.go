package gotool

import (
	"context"
	"os"
	"sync"
	"testing"
)

// TestBuildGroupsMatchesBuild: building in groups gives every package the
// result building it alone gives: the same binary-or-failure, the same
// output, the same failure kind.
func TestBuildGroupsMatchesBuild(t *testing.T) {
	pkgs := fixturePkgs(t)
	collect := func(build func(context.Context, []BuildRequest, int, func(BuildResult))) map[string]BuildResult {
		out := t.TempDir()
		var reqs []BuildRequest
		for _, ip := range []string{"example.com/mod/a", "example.com/mod/b/util", "example.com/mod/c/util", "example.com/mod/broken",
			"example.com/mod/notests", "example.com/mod/vetfail", "example.com/mod/badsig", "example.com/mod/withmain"} {
			reqs = append(reqs, BuildRequest{Pkg: pkgs[ip], Dir: fixtureDir(t), OutDir: out, Env: fixtureEnv()})
		}
		results := map[string]BuildResult{}
		var mu sync.Mutex
		build(context.Background(), reqs, 2, func(r BuildResult) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := results[r.Pkg.ImportPath]; dup {
				t.Errorf("%s delivered twice", r.Pkg.ImportPath)
			}
			results[r.Pkg.ImportPath] = r
		})
		if len(results) != len(reqs) {
			t.Fatalf("%d results for %d requests", len(results), len(reqs))
		}
		return results
	}
	grouped := func(early int) func(context.Context, []BuildRequest, int, func(BuildResult)) {
		return func(ctx context.Context, reqs []BuildRequest, c int, done func(BuildResult)) {
			BuildGroups(ctx, reqs, early, c, done)
		}
	}
	alone := collect(BuildAll)
	for _, early := range []int{0, 4} {
		compareBuilds(t, alone, collect(grouped(early)))
	}
	// One go test -exec with this test binary as the shim (TestMain).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	before := handOvers.Load()
	withExec := collect(func(ctx context.Context, reqs []BuildRequest, c int, done func(BuildResult)) {
		BuildExec(ctx, reqs, []string{self}, c, func(r BuildResult) {
			order = append(order, r.Pkg.ImportPath)
			done(r)
		})
	})
	compareBuilds(t, alone, withExec)
	t.Logf("BuildExec delivered in order %v", order)
	ok := 0
	for _, r := range withExec {
		if r.Err == nil && !r.NoTestFiles {
			ok++
		}
	}
	if n := handOvers.Load() - before; n != int64(ok) {
		t.Errorf("%d binaries handed over by the shim, want all %d built ones", n, ok)
	}
}

func compareBuilds(t *testing.T, alone, grouped map[string]BuildResult) {
	t.Helper()
	for ip, a := range alone {
		g := grouped[ip]
		if (a.Err == nil) != (g.Err == nil) || a.Output != g.Output || a.SetupFailed != g.SetupFailed ||
			a.FailedBuild != g.FailedBuild || a.NoTestFiles != g.NoTestFiles {
			t.Errorf("%s:\nalone:   err=%v setup=%v failed=%q output=%q\ngrouped: err=%v setup=%v failed=%q output=%q",
				ip, a.Err, a.SetupFailed, a.FailedBuild, a.Output, g.Err, g.SetupFailed, g.FailedBuild, g.Output)
		}
		if g.Err == nil && !g.NoTestFiles {
			if _, err := os.Stat(g.Binary); err != nil {
				t.Errorf("%s: no binary: %v", ip, err)
			}
		}
	}
}
