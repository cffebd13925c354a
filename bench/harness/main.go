// Command harness times godist against go test on the same suites in one
// run, interleaved (A B A B …), and prints a Markdown table of medians and
// ratios. Absolute times drift between runs and machines; ratios of
// interleaved runs hold.
//
//	go run ./bench/harness [-reps 3] [-suites slow,many] [-configs ...] [-out bench.md]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// suite is a test suite run in place: go test ARGS / godist ARGS in Dir.
type suite struct {
	Name string
	Dir  string   // relative to the repository root
	Args []string // packages and flags common to both tools
	Why  string   // what the suite shows, and what is skipped and why
}

var suites = []suite{
	{Name: "slow", Dir: "testdata/basic", Args: []string{"./slow/"},
		Why: "16 sequential tests of 0.5 s: the distribution win"},
	{Name: "many", Dir: "testdata/basic", Args: []string{"./many/"},
		Why: "300 tiny tests: the overhead of splitting"},
	{Name: "basic", Dir: "testdata/basic", Args: []string{"-skip", "^TestSlow", "./..."},
		Why: "every fixture package (one build failure, failing tests), slow tests skipped"},
	{Name: "raft", Dir: "bench/corpus", Args: []string{"github.com/hashicorp/raft/..."},
		Why: "hashicorp/raft v1.8.0: one package, ~157 sequential tests"},
	{Name: "apimachinery", Dir: "bench/corpus", Args: []string{"k8s.io/apimachinery/..."},
		Why: "k8s.io/apimachinery v0.37.2: ~60 packages"},
	{Name: "fiber", Dir: "bench/corpus", Args: []string{"github.com/gofiber/fiber/v2/..."},
		Why: "gofiber/fiber v2.52.15: t.Parallel-heavy"},
}

// config is one way to run a suite.
type config struct {
	Name    string
	Godist  bool
	Args    []string
	History bool // keep the duration history from a warm-up run
}

var configs = []config{
	{Name: "go test"},
	{Name: "godist -n auto", Godist: true, Args: []string{"-n", "auto"}},
	{Name: "godist -n 4", Godist: true, Args: []string{"-n", "4"}},
	{Name: "godist -n 8", Godist: true, Args: []string{"-n", "8"}},
	{Name: "godist -n 8 +history", Godist: true, Args: []string{"-n", "8"}, History: true},
}

// stats is what `godist --stats FILE` writes about its own run.
type stats struct {
	BuildSeconds     float64 `json:"build_seconds"`
	WorkerStartup    float64 `json:"worker_startup_seconds"`
	TestProcesses    int     `json:"test_processes"`
	Workers          int     `json:"workers"`
	LongestTest      float64 `json:"longest_test_seconds"`
	TotalTestSeconds float64 `json:"total_test_seconds"`
	ControllerCPU    float64 `json:"controller_cpu_seconds"`
	ControllerMaxRSS int64   `json:"controller_maxrss_kb"`
}

// limit is the suite's physical limit on this run's own events: nothing can
// finish before the binaries are built and the longest test or the fair
// share of all test time has run.
func (s stats) limit() float64 {
	share := s.TotalTestSeconds / float64(max(s.Workers, 1))
	return s.BuildSeconds + max(s.LongestTest, share)
}

// sample is one timed run.
type sample struct {
	Wall, CPU float64
	Exit      int
	Stats     *stats
}

func main() {
	reps := flag.Int("reps", 3, "repetitions of each configuration (medians are reported)")
	only := flag.String("suites", "slow,many,basic", "comma-separated suites to run (all: "+suiteNames()+")")
	cfgs := flag.String("configs", "", "comma-separated configuration names (default: all)")
	out := flag.String("out", "bench/results.md", "also write the table to this file")
	godist := flag.String("godist", "", "godist binary (default: built from ./cmd/godist)")
	flag.Parse()

	root, err := repoRoot()
	check(err)
	bin := *godist
	if bin == "" {
		bin = filepath.Join(os.TempDir(), "godist-bench")
		build := exec.Command("go", "build", "-o", bin, "./cmd/godist")
		build.Dir, build.Stderr = root, os.Stderr
		check(build.Run())
	}
	var chosen []config
	for _, c := range configs {
		if *cfgs == "" || slices.Contains(strings.Split(*cfgs, ","), c.Name) {
			chosen = append(chosen, c)
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "godist benchmark, %s, %d CPUs, %d reps, medians\n\n", time.Now().UTC().Format("2006-01-02"), numCPU(), *reps)
	table.WriteString("| suite | config | wall s | CPU s | ×go test | ×limit | limit s | build s | worker start s | test procs | ctl CPU s | ctl RSS MiB | exit |\n")
	table.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, name := range strings.Split(*only, ",") {
		s, ok := findSuite(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "harness: unknown suite %q (have %s)\n", name, suiteNames())
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "suite %s: %s\n", s.Name, s.Why)
		results := runSuite(root, bin, s, chosen, *reps)
		base := median(results[chosen[0].Name], func(x sample) float64 { return x.Wall })
		for _, c := range chosen {
			rs := results[c.Name]
			wall := median(rs, func(x sample) float64 { return x.Wall })
			cpu := median(rs, func(x sample) float64 { return x.CPU })
			row := []string{s.Name, c.Name, f2(wall), f2(cpu), f2(wall / base)}
			if st := rs[0].Stats; st != nil {
				lim := median(rs, func(x sample) float64 { return x.Stats.limit() })
				row = append(row, f2(wall/lim), f2(lim),
					f2(median(rs, func(x sample) float64 { return x.Stats.BuildSeconds })),
					f3(median(rs, func(x sample) float64 { return x.Stats.WorkerStartup })),
					fmt.Sprint(st.TestProcesses),
					f2(median(rs, func(x sample) float64 { return x.Stats.ControllerCPU })),
					fmt.Sprint(st.ControllerMaxRSS/1024))
			} else {
				row = append(row, "", "", "", "", "", "", "")
			}
			row = append(row, fmt.Sprint(rs[0].Exit))
			table.WriteString("| " + strings.Join(row, " | ") + " |\n")
		}
	}
	fmt.Print(table.String())
	if *out != "" {
		check(os.WriteFile(filepath.Join(root, *out), []byte(table.String()), 0o644))
	}
}

// runSuite runs every configuration reps times, interleaved.
func runSuite(root, bin string, s suite, cfgs []config, reps int) map[string][]sample {
	dir := filepath.Join(root, s.Dir)
	if s.Dir == "bench/corpus" {
		dl := exec.Command("go", "mod", "download")
		dl.Dir, dl.Stderr = dir, os.Stderr
		check(dl.Run())
	}
	tmp, err := os.MkdirTemp("", "godist-bench-")
	check(err)
	defer os.RemoveAll(tmp)
	results := map[string][]sample{}
	// Warm the build cache and the histories of the configurations that keep one.
	for _, c := range cfgs {
		if c.History || !c.Godist {
			runOnce(bin, dir, s, c, tmp)
		}
	}
	for r := 0; r < reps; r++ {
		for _, c := range cfgs {
			smp := runOnce(bin, dir, s, c, tmp)
			fmt.Fprintf(os.Stderr, "  %-22s rep %d: %.2fs (exit %d)\n", c.Name, r+1, smp.Wall, smp.Exit)
			results[c.Name] = append(results[c.Name], smp)
		}
	}
	return results
}

func runOnce(bin, dir string, s suite, c config, tmp string) sample {
	var cmd *exec.Cmd
	statsFile := filepath.Join(tmp, "stats.json")
	if c.Godist {
		hist := filepath.Join(tmp, "history-"+strings.ReplaceAll(c.Name, " ", "_")+".json")
		if !c.History {
			os.Remove(hist)
		}
		args := append([]string{"--history", hist, "--stats", statsFile}, c.Args...)
		cmd = exec.Command(bin, append(args, s.Args...)...)
	} else {
		cmd = exec.Command("go", append([]string{"test", "-count=1"}, s.Args...)...)
	}
	os.Remove(statsFile)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	err := cmd.Run()
	smp := sample{Wall: time.Since(start).Seconds()}
	if cmd.ProcessState == nil {
		check(err)
	}
	smp.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		smp.CPU = tv(ru.Utime) + tv(ru.Stime)
	}
	if data, err := os.ReadFile(statsFile); err == nil {
		var st stats
		if json.Unmarshal(data, &st) == nil {
			smp.Stats = &st
		}
	}
	return smp
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func median(xs []sample, f func(sample) float64) float64 {
	vals := make([]float64, 0, len(xs))
	for _, x := range xs {
		vals = append(vals, f(x))
	}
	slices.Sort(vals)
	if len(vals) == 0 {
		return 0
	}
	return vals[len(vals)/2]
}

func f2(x float64) string { return fmt.Sprintf("%.2f", x) }
func f3(x float64) string { return fmt.Sprintf("%.3f", x) }

func findSuite(name string) (suite, bool) {
	for _, s := range suites {
		if s.Name == name {
			return s, true
		}
	}
	return suite{}, false
}

func suiteNames() string {
	var names []string
	for _, s := range suites {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(string(out), &n)
	return n
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
