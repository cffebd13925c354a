package gotool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	MainIfBuildShim() // the test binary is BuildExec's shim in TestBuildGroupsMatchesBuild
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fixtureDir is the fixture module's root (shared with the scheduler's
// tests, which discover and run its tests).
func fixtureDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "scheduler", "testdata", "mod"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fixtureEnv keeps the user's go environment from changing the fixture.
func fixtureEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=")
}

var (
	loadOnce sync.Once
	loaded   map[string]*Package
	loadErr  error
)

// fixturePkgs loads all fixture packages once per test process.
func fixturePkgs(t testing.TB) map[string]*Package {
	t.Helper()
	loadOnce.Do(func() {
		pkgs, err := Load(context.Background(), LoadConfig{Dir: fixtureDir(t), Patterns: []string{"./..."}, Env: fixtureEnv()})
		loadErr = err
		loaded = map[string]*Package{}
		for _, p := range pkgs {
			loaded[p.ImportPath] = p
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}
