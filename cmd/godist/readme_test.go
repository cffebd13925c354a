package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// actionlintVersion is the actionlint the README's workflow is checked
// with, installed from the module proxy.
const actionlintVersion = "v1.7.12"

// TestReadmeWorkflow: the GitHub Actions workflows in the README (the
// shard matrix and the Redis queue) are valid (actionlint, with its
// shellcheck-free checks of expressions, actions' inputs and job graph),
// and every godist command line in them is one godist accepts.
func TestReadmeWorkflow(t *testing.T) {
	readme := readFile(t, filepath.Join(repoRoot(t), "README.md"))
	const open = "```yaml\n# .github/workflows/"
	dir := t.TempDir()
	var files []string
	for rest := readme; ; {
		var ok bool
		if _, rest, ok = strings.Cut(rest, open); !ok {
			break
		}
		name, _, _ := strings.Cut(rest, "\n")
		var workflow string
		workflow, rest, ok = strings.Cut(rest, "```")
		if !ok {
			t.Fatalf("README.md: the workflow %s has no end", name)
		}
		workflow = "# .github/workflows/" + workflow
		checkWorkflowCommands(t, name, workflow)
		wf := filepath.Join(dir, ".github", "workflows", name)
		if err := os.MkdirAll(filepath.Dir(wf), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(wf, []byte(workflow), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, wf)
	}
	if len(files) != 2 {
		t.Fatalf("README.md has %d workflows (```yaml blocks starting with # .github/workflows/NAME), want the shard and queue ones", len(files))
	}
	bin := filepath.Join(t.TempDir(), "bin")
	install := exec.Command("go", "install", "github.com/rhysd/actionlint/cmd/actionlint@"+actionlintVersion)
	install.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("installing actionlint %s from the module proxy: %v\n%s", actionlintVersion, err, out)
	}
	lint := exec.Command(filepath.Join(bin, "actionlint"), append([]string{"-shellcheck=", "-pyflakes="}, files...)...)
	lint.Dir = dir
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("actionlint on the README's workflows: %v\n%s", err, out)
	}
}

// checkWorkflowCommands parses every `run: godist` line of a workflow
// (merge lines aside: TestShardsMerge and the queue tests run those) as
// godist's command line.
func checkWorkflowCommands(t *testing.T, name, workflow string) {
	t.Helper()
	// Expressions and variables stand for values the matrix or the
	// repository gives.
	expr := regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	for _, line := range strings.Split(workflow, "\n") {
		cmdline, ok := strings.CutPrefix(strings.TrimSpace(line), "run: godist ")
		if !ok {
			continue
		}
		cmdline = expr.ReplaceAllString(cmdline, "2")
		cmdline = strings.ReplaceAll(cmdline, `"$QUEUE"`, "rediss://redis.example:6379/run-2")
		args := strings.Fields(cmdline)
		if args[0] == "merge" {
			continue
		}
		if _, err := parseArgs(args); err != nil {
			t.Errorf("README workflow %s: godist %s: %v", name, cmdline, err)
		}
	}
}
