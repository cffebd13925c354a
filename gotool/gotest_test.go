package gotool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/godist/godist/collector"
)

// The tests in this file hold Load and Build to what the go command itself
// does on small modules written for each case: every package Load returns
// is one go test reports, with the same outcome class (tests, no test
// files, setup failure), and Build words failures as go test does.

// writeTree writes files (slash-separated paths relative to the root) under
// a new temporary directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// caseEnv is the environment with the user's GOFLAGS and GOWORK left out
// and extra (NAME=value) added.
func caseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOFLAGS=") && !strings.HasPrefix(kv, "GOWORK=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// goTestOutcome is what go test -json said about one package.
type goTestOutcome struct {
	action string // the package's terminal action: pass, fail, skip
	kind   string // "tests", "no test files", "setup failed", "build failed"
}

// runGoTest runs `go test -json args...` in dir and returns each package's
// outcome, in the order of the packages' start events, the build events
// of each package (by ImportPath) and stderr.
func runGoTest(t *testing.T, dir string, env []string, args ...string) (order []string, out map[string]goTestOutcome, build map[string][]collector.Event, stderr string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	cmd.Run() // failing packages are part of what is compared
	out, build = map[string]goTestOutcome{}, map[string][]collector.Event{}
	sc := bufio.NewScanner(&so)
	for sc.Scan() {
		var e collector.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("go test -json: %q: %v", sc.Text(), err)
		}
		if e.ImportPath != "" {
			e.Time = nil
			build[e.ImportPath] = append(build[e.ImportPath], e)
			continue
		}
		if e.Test != "" {
			continue
		}
		o := out[e.Package]
		switch {
		case e.Action == "start":
			order = append(order, e.Package)
			o.kind = "tests"
		case e.Action == "output" && strings.Contains(e.Output, "[no test files]"):
			o.kind = "no test files"
		case e.Action == "output" && strings.Contains(e.Output, "[setup failed]"):
			o.kind = "setup failed"
		case e.Action == "output" && strings.Contains(e.Output, "[build failed]"):
			o.kind = "build failed"
		case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
			o.action = e.Action
		}
		out[e.Package] = o
	}
	return order, out, build, se.String()
}

// checkAgainstGoTest loads patterns as cfg says, runs go test on them with
// the same flags and environment, and checks that both name the same
// packages in the same order, each of the same kind; it returns the loaded
// packages by import path.
func checkAgainstGoTest(t *testing.T, cfg LoadConfig) map[string]*Package {
	t.Helper()
	pkgs, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	args := append(slices.Clone(cfg.BuildFlags), cfg.Patterns...)
	order, outcomes, _, stderr := runGoTest(t, cfg.Dir, cfg.Env, args...)
	byPath := map[string]*Package{}
	var paths []string
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
		paths = append(paths, p.ImportPath)
	}
	// go test starts packages that fail setup first; the rest in order.
	sortedGo, sortedLoad := slices.Sorted(slices.Values(order)), slices.Sorted(slices.Values(paths))
	if !slices.Equal(sortedGo, sortedLoad) {
		t.Fatalf("Load found %q, go test %q\ngo test's stderr:\n%s", paths, order, stderr)
	}
	for _, p := range pkgs {
		var want string
		switch o := outcomes[p.ImportPath]; {
		case p.Error != nil:
			want = "setup failed"
		case !p.HasTests():
			want = "no test files"
		default:
			want = "tests"
			if o.kind == "build failed" {
				want = o.kind // found by compiling, not by loading
			}
		}
		if got := outcomes[p.ImportPath].kind; got != want {
			t.Errorf("%s: go test says %q, Load says %q (%+v)", p.ImportPath, got, want, p)
		}
	}
	return byPath
}

// The test files of a small module, written in the package a is for.
const (
	goMod    = "module example.com/m\n\ngo 1.26\n"
	passTest = "import \"testing\"\n\nfunc TestOK(t *testing.T) {}\n"
)

func TestLoadWorkspace(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.work":             "go 1.26\n\nuse (\n\t./one\n\t./two\n)\n",
		"one/go.mod":          "module example.com/one\n\ngo 1.26\n",
		"one/p/p.go":          "package p\n\nfunc P() int { return 1 }\n",
		"one/p/p_test.go":     "package p\n\n" + passTest,
		"two/go.mod":          "module example.com/two\n\ngo 1.26\n",
		"two/q/q.go":          "package q\n\nimport \"example.com/one/p\"\n\nvar Q = p.P()\n",
		"two/q/q_test.go":     "package q\n\n" + passTest,
		"two/notests/n.go":    "package notests\n",
		"two/q/testdata/x.go": "package ignored\n",
	})
	env := caseEnv()
	for _, tc := range []struct {
		dir      string
		patterns []string
	}{
		{root, []string{"./one/...", "./two/..."}},
		{root, []string{"example.com/one/...", "example.com/two/q"}},
		// From inside one module the workspace still provides the other.
		{filepath.Join(root, "two"), []string{"./..."}},
		// The workspace root is in no module: go's own error, as a
		// pattern that failed setup.
		{root, []string{"./..."}},
	} {
		t.Run(strings.Join(tc.patterns, ","), func(t *testing.T) {
			pkgs := checkAgainstGoTest(t, LoadConfig{Dir: tc.dir, Patterns: tc.patterns, Env: env})
			for ip, p := range pkgs {
				if p.Error != nil || !p.HasTests() {
					continue
				}
				r := Build(context.Background(), BuildRequest{Pkg: p, Dir: tc.dir, OutDir: t.TempDir(), Env: env})
				if r.Err != nil {
					t.Errorf("build %s: %v\n%s", ip, r.Err, r.Output)
				}
			}
		})
	}
}

func TestLoadTags(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.mod":                "module example.com/m\n\ngo 1.26\n",
		"tagged/t.go":           "package tagged\n",
		"tagged/tagged_test.go": "//go:build special\n\npackage tagged\n\n" + passTest,
		"both/b.go":             "package both\n",
		"both/plain_test.go":    "package both\n\n" + passTest,
		"both/extra_test.go":    "//go:build special\n\npackage both\n\nimport \"testing\"\n\nfunc TestExtra(t *testing.T) {}\n",
	})
	for _, tc := range []struct {
		name  string
		flags []string
		env   []string
		want  []string // TestGoFiles of both and of tagged
	}{
		{"untagged", nil, caseEnv(), []string{"plain_test.go", ""}},
		{"-tags", []string{"-tags=special"}, caseEnv(), []string{"extra_test.go plain_test.go", "tagged_test.go"}},
		{"GOFLAGS", nil, caseEnv("GOFLAGS=-tags=special"), []string{"extra_test.go plain_test.go", "tagged_test.go"}},
		// Test-only flags in GOFLAGS are go test's; go list ignores them.
		{"GOFLAGS with test flags", nil, caseEnv("GOFLAGS=-tags=special -vet=off -count=1"), []string{"extra_test.go plain_test.go", "tagged_test.go"}},
		// godist's build flags (go test's) all go to go list but -vet.
		{"build flags", []string{"-tags=special", "-race=false", "-trimpath=true", "-mod=mod", "-gcflags=-N", "-ldflags=-s", "-vet=off"}, caseEnv(), []string{"extra_test.go plain_test.go", "tagged_test.go"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkgs := checkAgainstGoTest(t, LoadConfig{Dir: root, Patterns: []string{"./..."}, BuildFlags: tc.flags, Env: tc.env})
			got := []string{strings.Join(pkgs["example.com/m/both"].TestGoFiles, " "), strings.Join(pkgs["example.com/m/tagged"].TestGoFiles, " ")}
			if !slices.Equal(got, tc.want) {
				t.Errorf("TestGoFiles %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadTestFileKinds(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.mod":                             goMod,
		"testonly/t_test.go":                 "package testonly\n\n" + passTest,
		"xonly/x_test.go":                    "package xonly_test\n\n" + passTest,
		"mixed/m.go":                         "package mixed\n",
		"mixed/in_test.go":                   "package mixed\n\n" + passTest,
		"mixed/ex_test.go":                   "package mixed_test\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"notests/n.go":                       "package notests\n",
		"vendor/modules.txt":                 "",
		"vendor/example.com/v/v.go":          "package v\n",
		"sub/vendor/example.com/w/w.go":      "package w\n",
		"sub/vendor/example.com/w/w_test.go": "package w\n\n" + passTest,
		"testdata/t/t_test.go":               "package t\n\n" + passTest,
		"_hidden/h_test.go":                  "package h\n\n" + passTest,
	})
	pkgs := checkAgainstGoTest(t, LoadConfig{Dir: root, Patterns: []string{"./..."}, Env: caseEnv()})
	want := map[string][2]string{ // TestGoFiles, XTestGoFiles
		"example.com/m/testonly": {"t_test.go", ""},
		"example.com/m/xonly":    {"", "x_test.go"},
		"example.com/m/mixed":    {"in_test.go", "ex_test.go"},
		"example.com/m/notests":  {"", ""},
	}
	if len(pkgs) != len(want) {
		t.Errorf("packages %v, want those of %v (no vendor, testdata or _ directories)", slices.Sorted(mapsKeys(pkgs)), slices.Sorted(mapsKeys(want)))
	}
	for ip, w := range want {
		p := pkgs[ip]
		if p == nil {
			t.Errorf("%s not loaded", ip)
			continue
		}
		if got := [2]string{strings.Join(p.TestGoFiles, " "), strings.Join(p.XTestGoFiles, " ")}; got != w || p.Error != nil {
			t.Errorf("%s: files %q, error %v; want %q", ip, got, p.Error, w)
		}
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestLoadSyntaxErrors(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.mod": goMod,
		// A syntax error in the imports: go list finds it.
		"hdr/hdr.go":      "package hdr\n\nimport (\n\t\"fmt\"\n\nfunc F() {}\n",
		"hdr/hdr_test.go": "package hdr\n\n" + passTest,
		// A syntax error in a body: only the compiler does.
		"body/body.go":      "package body\n\nfunc F() int {\n\treturn 1 +\n}\n",
		"body/body_test.go": "package body\n\n" + passTest,
	})
	env := caseEnv()
	pkgs := checkAgainstGoTest(t, LoadConfig{Dir: root, Patterns: []string{"./..."}, Env: env})
	cmd := exec.Command("go", "test", "./...") // go test's text: messages on stderr
	cmd.Dir, cmd.Env = root, env
	var se bytes.Buffer
	cmd.Stderr = &se
	cmd.Run()
	stderr := se.String()
	hdr := pkgs["example.com/m/hdr"]
	if hdr.Error == nil {
		t.Fatal("hdr: no load error")
	}
	// The error names file:line as go test prints it.
	if msg := hdr.Error.Error(); msg != "hdr/hdr.go:6:1: missing import path" || !strings.Contains(stderr, "\n"+msg+"\n") {
		t.Errorf("hdr error %q; go test's stderr:\n%s", msg, stderr)
	}
	for _, ip := range []string{"example.com/m/hdr", "example.com/m/body"} {
		r := Build(context.Background(), BuildRequest{Pkg: pkgs[ip], Dir: root, OutDir: t.TempDir(), Env: env})
		if r.Err == nil || !strings.Contains(stderr, r.Output) {
			t.Errorf("%s: build err %v, output %q; not in go test's stderr:\n%s", ip, r.Err, r.Output, stderr)
		}
		if want := "body/body.go:5:1: syntax error"; ip == "example.com/m/body" && !strings.Contains(r.Output, want) {
			t.Errorf("%s: output %q lacks %q", ip, r.Output, want)
		}
	}
}

func TestLoadNoPackages(t *testing.T) {
	root := writeTree(t, map[string]string{"go.mod": goMod, "p/p.go": "package p\n", "nothing/README": ""})
	env := caseEnv()
	var warn bytes.Buffer
	pkgs, err := Load(context.Background(), LoadConfig{Dir: root, Patterns: []string{"./nothing/..."}, Env: env, Stderr: &warn})
	if !errors.Is(err, ErrNoPackages) || pkgs != nil {
		t.Fatalf("Load: %v, %v; want ErrNoPackages", pkgs, err)
	}
	_, _, _, stderr := runGoTest(t, root, env, "./nothing/...")
	if got := warn.String() + ErrNoPackages.Error() + "\n"; got != stderr {
		t.Errorf("godist would print %q, go test prints %q", got, stderr)
	}
	// One pattern matching nothing among others: only the warning.
	warn.Reset()
	pkgs, err = Load(context.Background(), LoadConfig{Dir: root, Patterns: []string{"./nothing/...", "./p"}, Env: env, Stderr: &warn})
	if err != nil || len(pkgs) != 1 || !strings.Contains(warn.String(), `"./nothing/..." matched no packages`) {
		t.Errorf("Load: %v, %v, warnings %q", pkgs, err, warn.String())
	}
}

// A pattern go list cannot expand comes back as a "package" named by the
// pattern; Build reports it as go test does, event for event.
func TestBuildPatternError(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.work":    "go 1.26\n\nuse ./one\n",
		"one/go.mod": "module example.com/one\n\ngo 1.26\n",
		"one/p/p.go": "package p\n",
	})
	env := caseEnv()
	for _, tc := range []struct{ dir, pattern string }{
		{root, "./..."}, // the workspace root is in no module
		{filepath.Join(root, "one"), "./nothere/..."}, // no such directory
	} {
		pkgs, err := Load(context.Background(), LoadConfig{Dir: tc.dir, Patterns: []string{tc.pattern}, Env: env})
		if err != nil || len(pkgs) != 1 || pkgs[0].Error == nil {
			t.Fatalf("%s: Load: %v %+v", tc.pattern, err, pkgs)
		}
		r := Build(context.Background(), BuildRequest{Pkg: pkgs[0], Dir: tc.dir, OutDir: t.TempDir(), Env: env})
		_, outcomes, build, _ := runGoTest(t, tc.dir, env, tc.pattern)
		if o := outcomes[tc.pattern]; o.kind != "setup failed" || !r.SetupFailed || r.FailedBuild != tc.pattern {
			t.Errorf("%s: go test: %+v; Build: SetupFailed %v FailedBuild %q", tc.pattern, o, r.SetupFailed, r.FailedBuild)
		}
		var text strings.Builder
		for _, e := range build[tc.pattern] {
			text.WriteString(e.Output)
		}
		if !slices.Equal(r.BuildEvents, build[tc.pattern]) || r.Output != text.String() {
			t.Errorf("%s: Build events %+v, output %q\ngo test's %+v", tc.pattern, r.BuildEvents, r.Output, build[tc.pattern])
		}
	}
}
