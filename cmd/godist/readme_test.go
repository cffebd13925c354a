package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// actionlintVersion is the actionlint the README's workflow is checked
// with, installed from the module proxy.
const actionlintVersion = "v1.7.12"

// TestReadmeWorkflow: the GitHub Actions workflow in the README is valid
// (actionlint, with its shellcheck-free checks of expressions, actions'
// inputs and job graph), and every godist command line in it is one
// godist accepts.
func TestReadmeWorkflow(t *testing.T) {
	readme := readFile(t, filepath.Join(repoRoot(t), "README.md"))
	_, rest, ok := strings.Cut(readme, "```yaml\n# .github/workflows/test.yml\n")
	workflow, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README.md has no ```yaml block starting with # .github/workflows/test.yml")
	}
	for _, line := range strings.Split(workflow, "\n") {
		cmdline, ok := strings.CutPrefix(strings.TrimSpace(line), "run: godist ")
		if !ok {
			continue
		}
		// Expressions stand for values the matrix gives.
		cmdline = strings.NewReplacer("${{ matrix.shard }}", "2").Replace(cmdline)
		args := strings.Fields(cmdline)
		if args[0] == "merge" {
			continue // checked by TestShardsMerge's runs of the same flags
		}
		if _, err := parseArgs(args); err != nil {
			t.Errorf("README workflow: godist %s: %v", cmdline, err)
		}
	}
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows", "test.yml")
	if err := os.MkdirAll(filepath.Dir(wf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, []byte(workflow), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bin")
	install := exec.Command("go", "install", "github.com/rhysd/actionlint/cmd/actionlint@"+actionlintVersion)
	install.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("installing actionlint %s from the module proxy: %v\n%s", actionlintVersion, err, out)
	}
	lint := exec.Command(filepath.Join(bin, "actionlint"), "-shellcheck=", "-pyflakes=", wf)
	lint.Dir = dir
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("actionlint on the README's workflow: %v\n%s", err, out)
	}
}
