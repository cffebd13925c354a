package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
)

// runStats is what `godist --stats FILE` writes about a run, for the
// benchmark harness (bench/harness): enough to compute the suite's physical
// limit from the run's own events.
type runStats struct {
	BuildSeconds     float64 `json:"build_seconds"`
	WorkerStartup    float64 `json:"worker_startup_seconds"`
	TestProcesses    int     `json:"test_processes"`
	Workers          int     `json:"workers"`
	LongestTest      float64 `json:"longest_test_seconds"`
	TotalTestSeconds float64 `json:"total_test_seconds"`
	ControllerCPU    float64 `json:"controller_cpu_seconds"`
	ControllerMaxRSS int64   `json:"controller_maxrss_kb"`
	BytesShipped     int64   `json:"bytes_shipped"` // test bundles sent to workers
	GoTestPath       bool    `json:"go_test_path"`  // a small suite run by one go test command (gotest.go)
}

func (r *testRun) writeStats() {
	if r.opts.statsFile == "" {
		return
	}
	r.mu.Lock()
	st := r.stats
	r.mu.Unlock()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		st.ControllerCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		st.ControllerMaxRSS = int64(ru.Maxrss) // int32 on 32-bit platforms
	}
	data, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(r.opts.statsFile, append(data, '\n'), 0o644); err != nil {
		fmt.Fprintf(r.stderr, "godist: --stats: %v\n", err)
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
