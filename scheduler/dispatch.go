package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Executor runs units on workers. It is the boundary to the gateways.
type Executor interface {
	// Execute runs u on worker w. notRun lists u's tests that did not run
	// (the process died before reaching them); they are requeued as a new
	// unit (Attempt+1). A non-nil err means worker w is unusable
	// (connection lost); then notRun (or all of u when nil) is requeued
	// and w gets no more work.
	Execute(ctx context.Context, w int, u *Unit) (notRun []string, err error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, w int, u *Unit) ([]string, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, w int, u *Unit) ([]string, error) {
	return f(ctx, w, u)
}

// ErrNoWorkers is returned by Run when every worker became unusable while
// work remained.
var ErrNoWorkers = errors.New("no usable workers left")

// DispatchOptions tune a Dispatcher; zero values take the defaults.
type DispatchOptions struct {
	// MaxStalls is how many times in a row a unit may come back with none
	// of its tests run before it is given up (returned by Run as not run)
	// instead of requeued; default 3. Requeues that made progress (some
	// test ran) do not count, so a batch of crashing tests always ends.
	MaxStalls int
}

// Dispatcher hands units to workers from one ready queue ordered longest
// first. Units are added while builds finish (Add) until CloseAdd. All
// bookkeeping happens under one lock; Execute runs outside it.
type Dispatcher struct {
	opts DispatchOptions

	mu       sync.Mutex
	cond     *sync.Cond
	queue    unitHeap
	seq      int // FIFO tie-break among equal estimates
	nextID   int
	closed   bool // CloseAdd called
	inflight int
	alive    int
	stopped  bool    // ctx ended or all workers dead: hand out nothing more
	canceled bool    // Run's ctx ended
	givenUp  []*Unit // exceeded MaxStalls
	running  bool
}

// NewDispatcher returns an empty Dispatcher.
func NewDispatcher(opts DispatchOptions) *Dispatcher {
	if opts.MaxStalls <= 0 {
		opts.MaxStalls = 3
	}
	d := &Dispatcher{opts: opts, nextID: 1 << 30}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// Add queues units (typically a package's units once its binary is
// ready). It may be called from any goroutine, before or during Run; after
// CloseAdd only from inside Execute, for work that follows from the unit in
// hand (a confirm run), which keeps Run from ending before it.
func (d *Dispatcher) Add(units ...*Unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed && d.inflight == 0 {
		panic("scheduler: Dispatcher.Add after CloseAdd, outside Execute")
	}
	for _, u := range units {
		d.push(u)
	}
	d.cond.Broadcast()
}

// CloseAdd says no more units will be added: Run returns once the queue
// is empty and nothing is in flight.
func (d *Dispatcher) CloseAdd() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.cond.Broadcast()
}

func (d *Dispatcher) push(u *Unit) {
	d.seq++
	heap.Push(&d.queue, queued{u: u, seq: d.seq})
}

// Run starts one goroutine per worker (0..workers-1), each taking the
// longest queued unit whenever it is idle, and returns when all work is
// done and CloseAdd was called. It returns the units that were not run:
// given up after repeated stalls (err nil), or left when ctx ended (err is
// ctx's error; Add may still be called afterwards, see Remaining) or when
// all workers died (ErrNoWorkers; Run waits for CloseAdd first so no unit
// is lost). Run may be called once.
func (d *Dispatcher) Run(ctx context.Context, workers int, exec Executor) ([]*Unit, error) {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		panic("scheduler: Dispatcher.Run called twice")
	}
	d.running = true
	d.alive = max(workers, 0)
	d.stopped = d.alive == 0
	d.mu.Unlock()

	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.stopped = true
		d.canceled = true
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx, w, exec)
		}()
	}
	wg.Wait()

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.alive == 0 {
		// Wait for the builds so that every unit is reported.
		for !d.closed && !d.canceled {
			d.cond.Wait()
		}
	}
	if ctx.Err() != nil {
		return d.drain(), fmt.Errorf("scheduler: dispatch: %w", ctx.Err())
	}
	if d.alive == 0 {
		left := d.drain()
		if len(left) > 0 {
			return left, fmt.Errorf("scheduler: dispatch: %w", ErrNoWorkers)
		}
		return nil, nil
	}
	return d.drain(), nil
}

// Remaining returns and removes the units still queued: those added after
// Run returned because its context ended.
func (d *Dispatcher) Remaining() []*Unit {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drain()
}

func (d *Dispatcher) drain() []*Unit {
	left := d.givenUp
	d.givenUp = nil
	for d.queue.Len() > 0 {
		left = append(left, heap.Pop(&d.queue).(queued).u)
	}
	return left
}

// next blocks until there is a unit for a worker, or returns nil when the
// worker should stop.
func (d *Dispatcher) next() *Unit {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.stopped {
			return nil
		}
		if d.queue.Len() > 0 {
			d.inflight++
			return heap.Pop(&d.queue).(queued).u
		}
		if d.closed && d.inflight == 0 {
			d.cond.Broadcast() // wake the others: all done
			return nil
		}
		d.cond.Wait()
	}
}

// work is one worker's loop.
func (d *Dispatcher) work(ctx context.Context, w int, exec Executor) {
	for {
		u := d.next()
		if u == nil {
			return
		}
		notRun, err := exec.Execute(ctx, w, u)
		dead := err != nil && ctx.Err() == nil
		if err != nil && notRun == nil {
			notRun = u.Tests
		}
		d.finish(u, notRun, dead)
		if dead || ctx.Err() != nil {
			return
		}
	}
}

// finish books the end of u: requeue what did not run, retire a dead worker.
func (d *Dispatcher) finish(u *Unit, notRun []string, dead bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inflight--
	if dead {
		d.alive--
		if d.alive == 0 {
			d.stopped = true
		}
	}
	if len(notRun) > 0 || (dead && len(u.Tests) == 0) {
		nu := d.requeued(u, notRun)
		if nu.stalls >= d.opts.MaxStalls && !dead {
			d.givenUp = append(d.givenUp, nu)
		} else {
			d.push(nu)
		}
	}
	d.cond.Broadcast()
}

// requeued makes the unit that reruns u's notRun tests.
func (d *Dispatcher) requeued(u *Unit, notRun []string) *Unit {
	est := make(map[string]time.Duration, len(u.Tests))
	for i, n := range u.Tests {
		if i < len(u.TestEstimates) {
			est[n] = u.TestEstimates[i]
		}
	}
	nu := &Unit{ID: d.nextID, Pkg: u.Pkg, Startup: u.Startup, Attempt: u.Attempt + 1,
		Subtests: u.Subtests, SkipSubtests: u.SkipSubtests, Parts: u.Parts, Confirm: u.Confirm}
	d.nextID++
	for _, n := range notRun {
		nu.Tests = append(nu.Tests, n)
		nu.TestEstimates = append(nu.TestEstimates, est[n])
	}
	nu.Estimate = nu.Startup + sum(nu.TestEstimates)
	if len(notRun) >= len(u.Tests) {
		nu.stalls = u.stalls + 1
	}
	return nu
}

type queued struct {
	u   *Unit
	seq int
}

// unitHeap pops the longest estimate first, then the earliest queued.
type unitHeap []queued

func (h unitHeap) Len() int { return len(h) }
func (h unitHeap) Less(i, j int) bool {
	if h[i].u.Estimate != h[j].u.Estimate {
		return h[i].u.Estimate > h[j].u.Estimate
	}
	return h[i].seq < h[j].seq
}
func (h unitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *unitHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *unitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
