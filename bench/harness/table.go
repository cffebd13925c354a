package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// table accumulates the Markdown report: one row per suite and
// configuration, then the notes (skips, load, anomalies).
type table struct {
	head, rows, notes, anomalies strings.Builder
}

const columns = "| suite | config | wall s | wall min–max | CPU s | ×go test | ×limit | limit s | build s | longest test s | worker start s | test procs | ctl CPU s | ctl/test CPU | ctl RSS MiB | exit | FAIL pkgs/tests |"

func newTable(root string, reps int, rev string) *table {
	t := &table{}
	if rev == "" {
		rev = revision(root)
	}
	fmt.Fprintf(&t.head, "godist benchmark: %s, godist %s, %s, %d reps interleaved, medians\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), rev, machine(), reps)
	t.rows.WriteString(columns + "\n")
	t.rows.WriteString("|" + strings.Repeat("---|", strings.Count(columns, "|")-1) + "\n")
	return t
}

func (t *table) addSuite(s suite, cfgs []config, results map[string][]sample, loadBefore, loadAfter string, took time.Duration) {
	var base []sample // go test's samples, when it ran
	if rs, ok := results["go test"]; ok {
		base = rs
	}
	for _, c := range cfgs {
		rs := results[c.Name]
		wall := median(rs, func(x sample) float64 { return x.Wall })
		lo := slices.MinFunc(rs, func(a, b sample) int { return cmpF(a.Wall, b.Wall) }).Wall
		hi := slices.MaxFunc(rs, func(a, b sample) int { return cmpF(a.Wall, b.Wall) }).Wall
		row := []string{s.Name, c.Name, f2(wall), f2(lo) + "–" + f2(hi),
			f2(median(rs, func(x sample) float64 { return x.CPU }))}
		if base != nil {
			row = append(row, f2(wall/median(base, func(x sample) float64 { return x.Wall }))+"×")
		} else {
			row = append(row, "")
		}
		if withStats := statSamples(rs); len(withStats) > 0 {
			lim := median(withStats, func(x sample) float64 { return x.Stats.Limit() })
			ctl := median(withStats, func(x sample) float64 { return x.Stats.ControllerCPU })
			// The tests' CPU: everything the run used but the controller
			// (test processes, workers, go build/list).
			share := median(withStats, func(x sample) float64 {
				return x.Stats.ControllerCPU / max(x.CPU-x.Stats.ControllerCPU, 1e-9)
			})
			row = append(row, f2(wall/lim)+"×", f2(lim),
				f2(median(withStats, func(x sample) float64 { return x.Stats.BuildSeconds })),
				f2(median(withStats, func(x sample) float64 { return x.Stats.LongestTest })),
				f3(median(withStats, func(x sample) float64 { return x.Stats.WorkerStartup })),
				processes(withStats),
				f2(ctl), fmt.Sprintf("%.1f%%", 100*share),
				fmt.Sprint(int(median(withStats, func(x sample) float64 { return float64(x.Stats.ControllerMaxRSS) })/1024)))
		} else {
			row = append(row, "", "", "", "", "", "", "", "", "")
		}
		row = append(row, exits(rs), fmt.Sprintf("%d/%d", rs[0].FailPkgs, rs[0].FailTests))
		t.rows.WriteString("| " + strings.Join(row, " | ") + " |\n")
		t.checkAgainst(s, c, rs, base)
	}
	fmt.Fprintf(&t.notes, "- **%s** (%s): %s; load average (1, 5, 15 min) %s before, %s after; %s in all.",
		s.Name, strings.Join(append(append([]string(nil), s.Flags...), s.Pkgs...), " "), s.Why, loadBefore, loadAfter, took.Round(time.Second))
	if s.Skipped != "" {
		fmt.Fprintf(&t.notes, " Left out: %s.", s.Skipped)
	}
	t.notes.WriteString("\n")
}

// checkAgainst notes every run whose outcome differs from go test's in the
// same repetition, and every run that hung.
func (t *table) checkAgainst(s suite, c config, rs, base []sample) {
	for i, x := range rs {
		if x.Hung {
			fmt.Fprintf(&t.anomalies, "- %s, %s, rep %d: still running after %s, killed; see %s.err\n", s.Name, c.Name, i+1, s.Budget, x.Log)
		}
		if !c.Godist || i >= len(base) {
			continue
		}
		b := base[i]
		if x.Exit != b.Exit || x.FailPkgs != b.FailPkgs || !slices.Equal(x.Failed, b.Failed) {
			fmt.Fprintf(&t.anomalies, "- %s, %s, rep %d: exit %d, %d FAIL pkgs, failed %s; go test: exit %d, %d FAIL pkgs, failed %s; see %s.{out,err}\n",
				s.Name, c.Name, i+1, x.Exit, x.FailPkgs, names(x.Failed), b.Exit, b.FailPkgs, names(b.Failed), x.Log)
		}
	}
}

func (t *table) String() string {
	var b strings.Builder
	b.WriteString(t.head.String())
	b.WriteString(t.rows.String())
	b.WriteString("\nSuites:\n\n")
	b.WriteString(t.notes.String())
	if t.anomalies.Len() > 0 {
		b.WriteString("\nAnomalies (outcome differs from go test's in the same repetition, or a run hung; " +
			"a test failing under one tool only may be flaky, see the logs):\n\n")
		b.WriteString(t.anomalies.String())
	} else {
		b.WriteString("\nNo anomalies: every godist run ended with go test's exit code and failed tests.\n")
	}
	return b.String()
}

func names(tests []string) string {
	if len(tests) == 0 {
		return "no test"
	}
	return strings.Join(tests, " ")
}

func statSamples(rs []sample) []sample {
	var out []sample
	for _, x := range rs {
		if x.Stats != nil {
			out = append(out, x)
		}
	}
	return out
}

// exits lists the distinct exit codes of the runs.
func exits(rs []sample) string {
	var codes []string
	for _, x := range rs {
		c := fmt.Sprint(x.Exit)
		if x.Hung {
			c = "hung"
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return strings.Join(codes, ",")
}

func median(xs []sample, f func(sample) float64) float64 {
	vals := make([]float64, 0, len(xs))
	for _, x := range xs {
		vals = append(vals, f(x))
	}
	slices.Sort(vals)
	switch n := len(vals); {
	case n == 0:
		return 0
	case n%2 == 0:
		return (vals[n/2-1] + vals[n/2]) / 2
	default:
		return vals[n/2]
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func f2(x float64) string { return fmt.Sprintf("%.2f", x) }
func f3(x float64) string { return fmt.Sprintf("%.3f", x) }

// processes is the median number of test processes, or "go test" when most
// runs took the go test path (one go test command for a small suite).
func processes(rs []sample) string {
	n := 0
	for _, x := range rs {
		if x.Stats.GoTestPath {
			n++
		}
	}
	if 2*n > len(rs) {
		return "go test"
	}
	return fmt.Sprint(int(median(rs, func(x sample) float64 { return float64(x.Stats.TestProcesses) })))
}
