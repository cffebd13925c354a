package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/collector"
)

// The result cache keeps go test's rules: each step runs go test and
// godist (on workers: --dist load) on the same module, one after the
// other, and compares which packages each served from its cache.
func TestResultCacheAsGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test and godist some 30 times")
	}
	dir := t.TempDir()
	write := func(name, text string, age time.Duration) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if age != 0 {
			old := time.Now().Add(-age)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("go.mod", "module example.com/cache\n\ngo 1.22\n", 0)
	write("files/files_test.go", `package files

import (
	"os"
	"testing"
)

func TestReadsFile(t *testing.T) {
	b, err := os.ReadFile("testdata/input.txt")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(string(b))
}

func TestOther(t *testing.T) {}
`, time.Hour)
	write("files/testdata/input.txt", "one\n", time.Hour)
	write("env/env_test.go", `package env

import (
	"os"
	"testing"
)

func TestReadsEnv(t *testing.T) { t.Log(os.Getenv("CACHE_FIXTURE_MODE")) }
func TestMore(t *testing.T)     {}
`, time.Hour)
	write("code/code.go", "package code\n\n// Answer is the answer.\nfunc Answer() int { return 42 }\n", time.Hour)
	write("code/code_test.go", `package code

import "testing"

func TestAnswer(t *testing.T) {
	if Answer() != 42 {
		t.Fatal("wrong")
	}
}

func TestSecond(t *testing.T) {}
`, time.Hour)
	write("failing/fail_test.go", "package failing\n\nimport \"testing\"\n\nfunc TestFails(t *testing.T) { t.Fatal(\"no\") }\nfunc TestPasses(t *testing.T) {}\n", time.Hour)

	cache := filepath.Join(t.TempDir(), "godist-cache")
	hist := filepath.Join(t.TempDir(), "history.json")
	env := []string{"GODIST_CACHE=" + cache, "CACHE_FIXTURE_MODE=a"}
	summary := regexp.MustCompile(`(?m)^(ok  |FAIL)\t(\S+)\t(\(cached\)|[0-9.]+s)`)
	cachedOf := func(out string) map[string]bool {
		if strings.HasPrefix(out, "{") {
			// -json: the summary lines are package output events.
			events, err := collector.ReadEvents(strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, e := range events {
				if e.Action == "output" && e.Test == "" {
					text.WriteString(e.Output)
				}
			}
			out = text.String()
		}
		got := map[string]bool{}
		for _, m := range summary.FindAllStringSubmatch(out, -1) {
			got[m[2]] = m[3] == "(cached)"
		}
		return got
	}
	step := func(name string, extraEnv []string, args ...string) {
		t.Helper()
		e := append(append([]string{}, env...), extraEnv...)
		want := runIn(t, dir, e, "go", append([]string{"test"}, args...)...)
		got := runIn(t, dir, e, godist(t), append([]string{"--history", hist, "--dist", "load", "-n", "2"}, args...)...)
		w, g := cachedOf(want.stdout), cachedOf(got.stdout)
		if len(w) == 0 {
			t.Fatalf("%s: go test printed no summaries:\n%s%s", name, want.stdout, want.stderr)
		}
		for pkg, c := range w {
			if gc, ok := g[pkg]; !ok || gc != c {
				t.Errorf("%s: %s: go test cached %t, godist %v\ngodist:\n%s%s", name, pkg, c, g[pkg], got.stdout, got.stderr)
			}
		}
		if got.code != want.code {
			t.Errorf("%s: exit %d, go test %d", name, got.code, want.code)
		}
	}
	step("first run", nil, "./...")
	step("nothing changed", nil, "./...")
	write("files/testdata/input.txt", "two, longer\n", time.Hour)
	step("a testdata file changed", nil, "./...")
	step("an environment variable the test reads changed", []string{"CACHE_FIXTURE_MODE=b"}, "./...")
	write("code/code.go", "package code\n\n// Answer is the answer, as before.\nfunc Answer() int { return 42 }\n", time.Hour)
	step("a comment changed: the same binary", nil, "./...")
	write("code/code.go", "package code\n\n// Answer is the answer.\nfunc Answer() int { return 40 + 2 }\n", time.Hour)
	step("the code changed", nil, "./...")
	step("-count=1", nil, "-count=1", "./...")
	step("-shuffle: not cacheable", nil, "-shuffle=on", "./...")
	step("-v: a key of its own", nil, "-v", "./...")
	step("-v again", nil, "-v", "./...")
	step("-json again", nil, "-json", "./...")
	write("files/testdata/input.txt", "three\n", -time.Minute) // younger than 2 s, for a minute
	step("a file younger than 2 s", nil, "./files")
	step("so not stored", nil, "./files")

	// -v and -json replays show what go test's show, timings aside.
	for _, args := range [][]string{{"-v", "./env"}, {"-json", "./env"}} {
		want := runIn(t, dir, env, "go", append([]string{"test"}, args...)...)
		got := runIn(t, dir, env, godist(t), append([]string{"--history", hist, "--dist", "load", "-n", "2", "--worker-attr=false"}, args...)...)
		if args[0] == "-json" {
			diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
			continue
		}
		if w, g := durations.ReplaceAllString(want.stdout, "X"), durations.ReplaceAllString(got.stdout, "X"); w != g {
			t.Errorf("-v cached replay:\ngo test:\n%s\ngodist:\n%s", w, g)
		}
		if !strings.Contains(got.stdout, "(cached)") {
			t.Errorf("-v run not cached:\n%s", got.stdout)
		}
	}
}
