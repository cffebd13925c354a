package run

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/godist/godist/channel"
	"github.com/godist/godist/gateway"
	"github.com/godist/godist/report"
	"github.com/godist/godist/workers"
)

// workerStartTimeout bounds opening the run's gateways, and each
// replacement of a lost one; sshStartTimeout when an ssh gateway is among
// them, which may wait for godist to cross-build itself for its host (a
// minute or more on a cold build cache) and copy itself over a slow link.
// An unreachable host fails sooner: ssh's ConnectTimeout is 15 s.
const (
	workerStartTimeout = 60 * time.Second
	sshStartTimeout    = 10 * time.Minute
)

// StartTimeout is the start timeout for opening specs.
func StartTimeout(specs []gateway.Spec) time.Duration {
	for _, s := range specs {
		if s.Kind == gateway.KindSSH {
			return sshStartTimeout
		}
	}
	return workerStartTimeout
}

// workerPool is the run's workers: one test-process runner per slot. A
// lost popen worker is replaced, up to a limit; other kinds are not (a
// socket server or host that went away is not coming back on its own).
type workerPool struct {
	stderr io.Writer

	mu       sync.Mutex
	specs    []gateway.Spec // per slot; nil for --dist no
	gws      []*gateway.Gateway
	runners  []workers.Runner
	restarts int
	limit    int
	retired  []*gateway.Gateway // lost gateways, closed at the end
	gwOpts   gateway.Options    // for replacements
}

// startWorkers opens the run's workers: -n N local popen gateways plus the
// --tx specs, all in parallel. --dist no runs test processes in the
// controller itself, -p at a time, like go test.
func (r *testRun) startWorkers(ctx context.Context) (*workerPool, error) {
	start := time.Now()
	o := r.opts
	pool := &workerPool{stderr: r.stderr}
	if o.Dist == DistNo {
		pool.runners = make([]workers.Runner, max(o.BuildP, 1))
		for i := range pool.runners {
			pool.runners[i] = workers.Local{}
		}
		r.noteWorkers(len(pool.runners), start)
		return pool, nil
	}
	specs, err := r.workerSpecs()
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, StartTimeout(specs))
	defer cancel()
	group, err := gateway.NewGroupWith(sctx, specs, r.gatewayOptions())
	if err != nil {
		return nil, fmt.Errorf("starting workers: %w", err)
	}
	pool.gws = group.Gateways()
	pool.gwOpts = r.gatewayOptions()
	for _, gw := range pool.gws {
		pool.specs = append(pool.specs, gw.Spec())
		gr, err := workers.StartRemote(sctx, gw)
		if err != nil {
			pool.close()
			return nil, err
		}
		pool.runners = append(pool.runners, gr)
	}
	pool.limit = o.MaxWorkerRestart
	if pool.limit < 0 {
		pool.limit = 4 * len(pool.runners) // pytest-xdist's default
	}
	r.noteWorkers(len(pool.runners), start)
	return pool, nil
}

// gatewayOptions are the workers' gateway options: --keepalive.
func (r *testRun) gatewayOptions() gateway.Options {
	opts := gateway.DefaultOptions
	switch k := r.opts.Keepalive; {
	case k < 0:
		opts.Keepalive = channel.Keepalive{Interval: -1}
	case k > 0:
		opts.Keepalive = channel.Keepalive{Interval: k / 3, Timeout: k}
	}
	return opts
}

// workerSpecs are the gateways of the run: the --tx specs, plus -n N popen
// workers unless only --tx was given.
func (r *testRun) workerSpecs() ([]gateway.Spec, error) {
	o := r.opts
	specTexts := append([]string(nil), o.TxSpecs...)
	if o.Workers > 0 && (len(o.TxSpecs) == 0 || o.WorkersExplicit) {
		specTexts = append(specTexts, strconv.Itoa(o.Workers)+"*popen")
	}
	specs, err := gateway.ParseSpecs(specTexts)
	if err != nil {
		return nil, &report.UsageError{Err: fmt.Errorf("godist: --tx: %w", err)}
	}
	return specs, nil
}

// workerCount is how many workers startWorkers will open.
func (r *testRun) workerCount() int {
	if r.opts.Dist == DistNo {
		return max(r.opts.BuildP, 1)
	}
	specs, _ := r.workerSpecs()
	return len(specs)
}

func (p *workerPool) size() int { return len(p.runners) }

func (p *workerPool) runner(w int) workers.Runner {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runners[w]
}

// replace starts a new worker in slot w after its worker was lost. It
// reports whether the slot has a worker again.
func (p *workerPool) replace(ctx context.Context, w int, why error) bool {
	p.mu.Lock()
	if p.gws == nil {
		p.mu.Unlock()
		return false
	}
	old := p.gws[w]
	p.retired = append(p.retired, old)
	spec := p.specs[w]
	if spec.Kind != gateway.KindPopen {
		p.mu.Unlock()
		fmt.Fprintf(p.stderr, "godist: worker %s lost (%v); %s workers are not replaced, the run goes on with the rest\n", old.ID(), why, spec.Kind)
		return false
	}
	if p.restarts >= p.limit {
		p.mu.Unlock()
		fmt.Fprintf(p.stderr, "godist: worker %s lost (%v); not replaced: --max-worker-restart %d reached, the run goes on with the rest\n", old.ID(), why, p.limit)
		return false
	}
	p.restarts++
	p.mu.Unlock()

	sctx, cancel := context.WithTimeout(ctx, workerStartTimeout)
	defer cancel()
	spec.ID = old.ID()
	gw, err := gateway.OpenWith(sctx, spec, p.gwOpts)
	var gr *workers.Remote
	if err == nil {
		gr, err = workers.StartRemote(sctx, gw)
		if err != nil {
			gw.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(p.stderr, "godist: worker %s lost (%v); replacing it failed: %v\n", old.ID(), why, err)
		return false
	}
	p.mu.Lock()
	p.gws[w], p.runners[w] = gw, gr
	p.mu.Unlock()
	fmt.Fprintf(p.stderr, "godist: worker %s lost (%v); replaced\n", old.ID(), why)
	return true
}

// close stops every worker: politely, then by force.
func (p *workerPool) close() {
	p.mu.Lock()
	all := append(append([]*gateway.Gateway(nil), p.gws...), p.retired...)
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, gw := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gw.Exit(ctx)
		}()
	}
	wg.Wait()
}

func (p *workerPool) restartCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

func (r *testRun) noteWorkers(n int, start time.Time) {
	r.mu.Lock()
	r.stats.Workers = n
	r.stats.WorkerStartup = time.Since(start).Seconds()
	r.mu.Unlock()
}
