package run

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/godist/godist/internal/proc"
)

// Stats is what `godist --stats FILE` writes about a run, for the
// benchmark harness (bench/harness): enough to compute the suite's physical
// limit from the run's own events.
type Stats struct {
	BuildSeconds     float64 `json:"build_seconds"`
	WorkerStartup    float64 `json:"worker_startup_seconds"`
	TestProcesses    int     `json:"test_processes"`
	Workers          int     `json:"workers"`
	LongestTest      float64 `json:"longest_test_seconds"`
	TotalTestSeconds float64 `json:"total_test_seconds"`
	ControllerCPU    float64 `json:"controller_cpu_seconds"`
	ControllerMaxRSS int64   `json:"controller_maxrss_kb"`
	BytesShipped     int64   `json:"bytes_shipped"`      // test bundles sent to workers
	GoTestPath       bool    `json:"go_test_path"`       // a small suite run by one go test command (gotest.go)
	ConfirmRuns      int     `json:"confirm_runs"`       // packages whose failures ran again as go test runs them (confirm.go)
	ConfirmedPasses  int     `json:"confirmed_passes"`   // failed tests that passed there
	WholePackages    int     `json:"whole_packages"`     // packages run whole, as go test, because the history says so
	Isolation        string  `json:"isolation"`          // --isolate's mode on this machine: none, net-root, net-user ("" when off)
	IsolatedProcs    int     `json:"isolated_processes"` // test processes that ran in a network namespace of their own
	CachedPackages   int     `json:"cached_packages"`    // packages replayed from the result cache
}

// Limit is the suite's physical limit on this run's own events, in
// seconds: nothing can finish before the binaries are built and the
// longest test, or the fair share of all test time, has run.
func (s Stats) Limit() float64 {
	share := s.TotalTestSeconds / float64(max(s.Workers, 1))
	return s.BuildSeconds + max(s.LongestTest, share)
}

func (r *testRun) writeStats() {
	if r.opts.StatsFile == "" {
		return
	}
	r.mu.Lock()
	st := r.stats
	r.mu.Unlock()
	if cpu, rss, ok := proc.SelfUsage(); ok {
		st.ControllerCPU, st.ControllerMaxRSS = cpu.Seconds(), rss
	}
	data, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(r.opts.StatsFile, append(data, '\n'), 0o644); err != nil {
		fmt.Fprintf(r.stderr, "godist: --stats: %v\n", err)
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
