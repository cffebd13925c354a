package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/run"
)

// sample is one timed run.
type sample struct {
	Wall, CPU float64 // CPU: user+system of the run and every process it waited for
	Exit      int
	Hung      bool     // killed after the suite's budget
	FailPkgs  int      // "FAIL\tpkg" summary lines on stdout
	FailTests int      // top-level "--- FAIL:" lines on stdout
	Failed    []string // the names of those tests, sorted
	Stats     *run.Stats
	Log       string // stdout/stderr files, without extension
}

// runner runs the configurations of one suite.
type runner struct {
	bin     string // godist binary
	dir     string // the suite's directory
	s       suite
	tmp     string // histories and stats files
	logs    string // stdout and stderr of every run are kept here
	verbose bool
	pkgs    []string // set by runSuite
}

// histFile is the history a configuration runs with: shared by the +hist
// configurations, removed before every other run.
func (r *runner) histFile(c config) string {
	if c.History {
		return filepath.Join(r.tmp, "history-shared.json")
	}
	return filepath.Join(r.tmp, "history-none.json")
}

// runSuite warms up, then runs every configuration reps times, interleaved:
// A B C … in odd repetitions, … C B A in even ones, so a drift in machine
// load weighs on every configuration alike.
func (r *runner) runSuite(cfgs []config, reps int) map[string][]sample {
	if r.s.corpus() {
		dl := exec.Command("go", "mod", "download")
		dl.Dir, dl.Stderr = r.dir, os.Stderr
		check(dl.Run())
	}
	r.pkgs = r.packages()
	// Warm the build cache (and vet's), without running a test.
	warm := exec.Command("go", append([]string{"test", "-count=1", "-run", "^$"}, r.pkgs...)...)
	warm.Dir = r.dir
	warm.Run() // a failing build is part of some suites; the timed runs report it
	// One untimed godist run records the shared duration history.
	for _, c := range cfgs {
		if c.History {
			os.Remove(r.histFile(c))
			smp := r.runOnce(config{Name: "warm-up", Godist: true, Args: []string{"-n", "8"}, History: true}, 0)
			fmt.Fprintf(os.Stderr, "  %-22s       : %7.2fs (exit %d)\n", "warm-up (history)", smp.Wall, smp.Exit)
			break
		}
	}
	results := map[string][]sample{}
	for rep := 1; rep <= reps; rep++ {
		order := append([]config(nil), cfgs...)
		if rep%2 == 0 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, c := range order {
			smp := r.runOnce(c, rep)
			note := ""
			if smp.Hung {
				note = " HUNG, killed"
			}
			fmt.Fprintf(os.Stderr, "  %-22s rep %d: %7.2fs (exit %d, %d FAIL pkgs, %d failed tests, load %s)%s\n",
				c.Name, rep, smp.Wall, smp.Exit, smp.FailPkgs, smp.FailTests, loadAvg(), note)
			results[c.Name] = append(results[c.Name], smp)
		}
	}
	return results
}

// packages is what the runs get for packages: the suite's patterns, or
// their expansion without the excluded packages.
func (r *runner) packages() []string {
	if len(r.s.ExcludePkgs) == 0 {
		return r.s.Pkgs
	}
	list := exec.Command("go", append([]string{"list"}, r.s.Pkgs...)...)
	list.Dir, list.Stderr = r.dir, os.Stderr
	out, err := list.Output()
	check(err)
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if !slices.Contains(r.s.ExcludePkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

func (r *runner) runOnce(c config, rep int) sample {
	statsFile := filepath.Join(r.tmp, "stats.json")
	os.Remove(statsFile)
	var args []string
	name := "go"
	if c.Godist {
		name = r.bin
		hist := r.histFile(c)
		if !c.History {
			os.Remove(hist)
		}
		args = append([]string{"--history", hist, "--stats", statsFile}, c.Args...)
		args = append(args, "-count=1")
	} else {
		args = []string{"test", "-count=1"}
	}
	args = append(append(args, r.s.Flags...), r.pkgs...)

	ctx, cancel := context.WithTimeout(context.Background(), r.s.Budget)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.dir
	// Its own process group, so a hung run is stopped with everything it
	// started: politely first (both tools handle SIGINT), then by force.
	proc.Group(cmd, proc.Options{CancelSignal: proc.Interrupt, WaitDelay: 20 * time.Second})
	log := filepath.Join(r.logs, fmt.Sprintf("%s.%s.%d", r.s.Name, strings.ReplaceAll(c.Name, " ", "_"), rep))
	stdout, err := os.Create(log + ".out")
	check(err)
	defer stdout.Close()
	stderr, err := os.Create(log + ".err")
	check(err)
	defer stderr.Close()
	line := fmt.Sprintf("cd %s && %s", shellQuote(r.dir), shellJoin(append([]string{name}, args...)))
	fmt.Fprintf(stderr, "# %s\n", line)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if r.verbose {
		fmt.Fprintf(os.Stderr, "    $ %s\n", line)
	}

	start := time.Now()
	err = cmd.Run()
	smp := sample{Wall: time.Since(start).Seconds(), Log: log}
	if cmd.ProcessState == nil {
		check(err)
	}
	smp.Hung = errors.Is(ctx.Err(), context.DeadlineExceeded)
	proc.Signal(cmd.Process, proc.Kill) // whatever it left behind
	smp.Exit = cmd.ProcessState.ExitCode()
	smp.CPU = proc.CPUTime(cmd.ProcessState).Seconds()
	if data, err := os.ReadFile(statsFile); err == nil {
		var st run.Stats
		if json.Unmarshal(data, &st) == nil {
			smp.Stats = &st
		}
	}
	smp.FailPkgs, smp.Failed = countFailures(log + ".out")
	smp.FailTests = len(smp.Failed)
	return smp
}

// countFailures reads go test's failure lines in a run's text output, to
// compare godist's outcome with go test's: the number of failed packages
// and the names of the failed top-level tests.
func countFailures(path string) (pkgs int, tests []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "FAIL\t"):
			pkgs++
		case strings.HasPrefix(line, "--- FAIL: "):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "--- FAIL: "), " ")
			tests = append(tests, name)
		}
	}
	slices.Sort(tests)
	return pkgs, tests
}

// loadAvg is the 1-, 5- and 15-minute load averages from /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// shellJoin is a command line to paste into a shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
