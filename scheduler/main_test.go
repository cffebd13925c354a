package scheduler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/godist/godist/gotool"
)

// testTempDir holds binaries shared by several tests.
var testTempDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scheduler-test-")
	if err != nil {
		panic(err)
	}
	testTempDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fixtureDir is the fixture module's root.
func fixtureDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "mod"))
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
	loaded   map[string]*gotool.Package
	loadErr  error
)

// fixturePkgs loads all fixture packages once per test process.
func fixturePkgs(t testing.TB) map[string]*gotool.Package {
	t.Helper()
	loadOnce.Do(func() {
		pkgs, err := gotool.Load(context.Background(), gotool.LoadConfig{Dir: fixtureDir(t), Patterns: []string{"./..."}, Env: fixtureEnv()})
		loadErr = err
		loaded = map[string]*gotool.Package{}
		for _, p := range pkgs {
			loaded[p.ImportPath] = p
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}
