package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/godist/godist/gateway"
)

// workerStartTimeout bounds opening every gateway of the run.
const workerStartTimeout = 60 * time.Second

// startWorkers opens the run's workers: -n N local popen gateways plus the
// --tx specs, all in parallel. --dist no runs test processes in the
// controller itself, -p at a time, like go test.
func (r *testRun) startWorkers(ctx context.Context) ([]procRunner, func(), error) {
	start := time.Now()
	o := r.opts
	if o.dist == distNo {
		runners := make([]procRunner, max(o.buildP, 1))
		for i := range runners {
			runners[i] = localRunner{}
		}
		r.noteWorkers(len(runners), start)
		return runners, func() {}, nil
	}
	specTexts := append([]string(nil), o.txSpecs...)
	if o.workers > 0 && (len(o.txSpecs) == 0 || o.workersExplicit) {
		specTexts = append(specTexts, strconv.Itoa(o.workers)+"*popen")
	}
	specs, err := gateway.ParseSpecs(specTexts)
	if err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, workerStartTimeout)
	defer cancel()
	group, err := gateway.NewGroup(sctx, specs)
	if err != nil {
		return nil, nil, fmt.Errorf("starting workers: %w", err)
	}
	closeAll := func() {
		ectx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		group.Exit(ectx)
	}
	var runners []procRunner
	for _, gw := range group.Gateways() {
		gr, err := newGatewayRunner(sctx, gw)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		runners = append(runners, gr)
	}
	r.noteWorkers(len(runners), start)
	return runners, closeAll, nil
}

func (r *testRun) noteWorkers(n int, start time.Time) {
	r.mu.Lock()
	r.stats.Workers = n
	r.stats.WorkerStartup = time.Since(start).Seconds()
	r.mu.Unlock()
}
