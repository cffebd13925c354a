package main

import (
	"context"
	"time"
)

// startWorkers opens the run's workers. --dist no runs test processes in
// the controller itself, -p at a time, like go test.
func (r *testRun) startWorkers(ctx context.Context) ([]procRunner, func(), error) {
	start := time.Now()
	n := r.opts.workers
	if r.opts.dist == distNo {
		n = r.opts.buildP
	}
	runners := make([]procRunner, max(n, 1))
	for i := range runners {
		runners[i] = localRunner{}
	}
	r.mu.Lock()
	r.stats.Workers = len(runners)
	r.stats.WorkerStartup = time.Since(start).Seconds()
	r.mu.Unlock()
	return runners, func() {}, nil
}
