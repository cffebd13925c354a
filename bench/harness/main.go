// Command harness times godist against go test on the same suites in one
// run, interleaved (A B C … C B A …), and prints a Markdown table of medians
// and ratios. Absolute times drift between runs and machines; ratios of
// interleaved runs hold.
//
//	go run ./bench/harness [-reps 3] [-suites slow,many,basic] [-configs ...] [-out bench/results.md]
//
// It starts no goroutines; every run is a child process in its own process
// group, stopped (SIGINT, then SIGKILL) when it outlives its suite's budget.
// The stdout and stderr of every run are kept under -logs for inspection.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	reps := flag.Int("reps", 3, "repetitions of each configuration (medians are reported)")
	only := flag.String("suites", "slow,many,basic", "comma-separated suites to run (all: "+suiteNames()+")")
	cfgs := flag.String("configs", "", "comma-separated configuration names (default: all of "+configNames()+")")
	out := flag.String("out", "bench/results.md", "also write the table to this file (relative to the repository root; empty: don't)")
	godist := flag.String("godist", "", "godist binary (default: built from ./cmd/godist)")
	logs := flag.String("logs", "", "keep every run's stdout and stderr here (default: a new temporary directory)")
	verbose := flag.Bool("v", false, "print every command run")
	rev := flag.String("rev", "", "the godist revision to name in the table (default: git describe of the working tree)")
	flag.Parse()

	root, err := repoRoot()
	check(err)
	tmp, err := os.MkdirTemp("", "godist-bench-")
	check(err)
	defer os.RemoveAll(tmp)
	if *logs == "" {
		*logs, err = os.MkdirTemp("", "godist-bench-logs-")
		check(err)
	}
	check(os.MkdirAll(*logs, 0o755))
	bin := *godist
	if bin == "" {
		bin = filepath.Join(tmp, "godist")
		build := exec.Command("go", "build", "-o", bin, "./cmd/godist")
		build.Dir, build.Stderr = root, os.Stderr
		check(build.Run())
	} else if bin, err = filepath.Abs(bin); err != nil {
		check(err)
	}
	var chosen []config
	for _, c := range configs {
		if *cfgs == "" || slices.Contains(strings.Split(*cfgs, ","), c.Name) {
			chosen = append(chosen, c)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(os.Stderr, "harness: no configuration matches %q (have %s)\n", *cfgs, configNames())
		os.Exit(2)
	}
	var chosenSuites []suite
	for _, name := range strings.Split(*only, ",") {
		s, ok := findSuite(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "harness: unknown suite %q (have %s)\n", name, suiteNames())
			os.Exit(2)
		}
		chosenSuites = append(chosenSuites, s)
	}

	t := newTable(root, *reps, *rev)
	fmt.Fprintf(os.Stderr, "logs of every run: %s\n", *logs)
	for _, s := range chosenSuites {
		fmt.Fprintf(os.Stderr, "suite %s: %s (load %s)\n", s.Name, s.Why, loadAvg())
		r := &runner{bin: bin, dir: filepath.Join(root, s.Dir), s: s, tmp: tmp, logs: *logs, verbose: *verbose}
		loadBefore := loadAvg()
		start := time.Now()
		results := r.runSuite(chosen, *reps)
		t.addSuite(s, chosen, results, loadBefore, loadAvg(), time.Since(start))
	}
	text := t.String()
	fmt.Print(text)
	if *out != "" {
		check(os.WriteFile(filepath.Join(root, *out), []byte(text), 0o644))
	}
}

// machine describes where the figures come from.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, goVersion())
}

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

// revision is the godist commit the figures are for; "+dirty" when the
// working tree has changes.
func revision(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty=+dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown revision"
	}
	return strings.TrimSpace(string(out))
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("harness: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("harness: run from inside the godist module")
	}
	return filepath.Dir(mod), nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}
