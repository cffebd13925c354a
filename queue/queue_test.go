package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/internal/redistest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// drain leases and completes units on q until the run is drained and
// returns the IDs it completed.
func drain(t *testing.T, ctx context.Context, q *Queue, worker string) []string {
	var done []string
	for {
		l, err := q.Lease(ctx, worker)
		if errors.Is(err, ErrDrained) {
			return done
		}
		if err != nil {
			t.Errorf("%s lease: %v", q.Job(), err)
			return done
		}
		if err := q.Complete(ctx, l.ID, resultFor(l.ID, q.Job())); err != nil {
			t.Errorf("%s complete %s: %v", q.Job(), l.ID, err)
		}
		done = append(done, l.ID)
	}
}

// checkResults checks that every unit of units has exactly one result,
// recorded by the job its data names.
func checkResults(t *testing.T, ctx context.Context, q *Queue, units []Unit) map[string]Result {
	t.Helper()
	got := map[string]Result{}
	var order []string
	for r, err := range q.Results(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if _, twice := got[r.ID]; twice {
			t.Errorf("unit %s yielded twice", r.ID)
		}
		got[r.ID] = r
		order = append(order, r.ID)
		job, _, _ := strings.Cut(r.By, "/")
		if !r.Done {
			t.Errorf("unit %s has no result", r.ID)
		} else if want := string(resultFor(r.ID, job)); string(r.Data) != want {
			t.Errorf("unit %s: result %q, recorded by %q", r.ID, r.Data, r.By)
		}
	}
	var want []string
	for _, u := range units {
		want = append(want, u.ID)
	}
	if !slices.Equal(order, want) {
		t.Errorf("results in order %v, want plan order %v", order, want)
	}
	return got
}

func TestRegisterLeaseComplete(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	q := open(t, s, "basic", testOptions("a"))
	units := plan(5, 0)
	units[2].Payload = []byte{0, 1, 2, 255} // payloads are bytes
	if _, err := q.Lease(ctx, "gw0"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("lease before register: %v, want ErrNotRegistered", err)
	}
	first, err := q.Register(ctx, "fp1", units)
	if err != nil || !first {
		t.Fatalf("register = %v, %v; want true, nil", first, err)
	}
	for i, u := range units {
		l, err := q.Lease(ctx, "gw0")
		if err != nil {
			t.Fatal(err)
		}
		if l.ID != u.ID || string(l.Payload) != string(u.Payload) || l.Attempt != 1 || l.Reclaimed != "" {
			t.Fatalf("lease %d = %+v, want unit %+v, attempt 1", i, l, u)
		}
		if d := time.Until(l.Expires); d <= 0 || d > testLease {
			t.Errorf("lease expires in %v, want within %v", d, testLease)
		}
		if err := q.Complete(ctx, l.ID, resultFor(l.ID, "a")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Lease(ctx, "gw0"); !errors.Is(err, ErrDrained) {
		t.Fatalf("lease after the last unit: %v, want ErrDrained", err)
	}
	if err := q.Wait(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got := checkResults(t, ctx, q, units)
	if r := got["u002"]; r.By != "a/gw0" || r.Attempt != 1 || string(r.Payload) != "\x00\x01\x02\xff" {
		t.Errorf("result u002 = %+v", r)
	}
	p, err := q.Progress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Complete() || p.Total != 5 || p.Done != 5 || p.Pending != 0 || p.Leased != 0 || p.Fingerprint != "fp1" || p.RegisteredBy != "a" {
		t.Errorf("progress = %+v", p)
	}
	if len(p.Jobs) != 1 || p.Jobs[0].Name != "a" || p.Jobs[0].Ago < 0 || p.Jobs[0].Ago > time.Minute {
		t.Errorf("jobs = %+v", p.Jobs)
	}
}

func TestCompleteTwiceAndUnknown(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	a := open(t, s, "dup", testOptions("a"))
	b := open(t, s, "dup", testOptions("b"))
	for _, q := range []*Queue{a, b} {
		if _, err := q.Register(ctx, "fp", plan(2, 0)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := a.Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Complete(ctx, l.ID, []byte("first")); err != nil {
		t.Fatal(err)
	}
	err = b.Complete(ctx, l.ID, []byte("second"))
	var dup *DuplicateError
	if !errors.As(err, &dup) || !errors.Is(err, ErrDuplicate) || dup.By != "a/gw0" || dup.Unit != l.ID {
		t.Fatalf("second complete: %v, want a *DuplicateError by a/gw0", err)
	}
	if err := a.Complete(ctx, "nope", nil); !errors.Is(err, ErrUnknownUnit) {
		t.Fatalf("complete of an unknown unit: %v", err)
	}
	if err := a.Requeue(ctx, l.ID); !errors.Is(err, ErrNotLeased) {
		t.Fatalf("requeue of a completed unit: %v", err)
	}
	for r, err := range a.Results(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == l.ID && string(r.Data) != "first" {
			t.Errorf("result %q, want the first one", r.Data)
		}
	}
}

func TestFingerprintMismatchRefused(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	a := open(t, s, "fp", testOptions("a"))
	b := open(t, s, "fp", testOptions("b"))
	c := open(t, s, "fp", testOptions("c"))
	if first, err := a.Register(ctx, "commit-1", plan(3, 0)); err != nil || !first {
		t.Fatalf("register a: %v %v", first, err)
	}
	first, err := b.Register(ctx, "commit-2", plan(4, 0))
	var fe *FingerprintError
	if !errors.As(err, &fe) || first {
		t.Fatalf("register b with another fingerprint: %v, %v; want *FingerprintError", first, err)
	}
	if fe.Plan != "commit-1" || fe.Got != "commit-2" || fe.RegisteredBy != "a" || !strings.Contains(err.Error(), `"commit-2" differs from the plan's "commit-1"`) {
		t.Errorf("error = %v (%+v)", err, fe)
	}
	if _, err := b.Lease(ctx, "gw0"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("refused job leases: %v", err)
	}
	if first, err := c.Register(ctx, "commit-1", nil); err != nil || first {
		t.Fatalf("register c with the same fingerprint = %v, %v; want join", first, err)
	}
	p, err := a.Progress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 3 || len(p.Jobs) != 2 {
		t.Errorf("the refused job changed the plan or joined: %+v", p)
	}
}

// TestManyClients: four clients of one process, two workers each, take
// units concurrently; one client is closed (as good as dead) while it
// holds a lease, which another takes over after the lease timeout.
func TestManyClients(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	units := plan(200, 0)
	var clients []*Queue
	for i := range 4 {
		q := open(t, s, "many", testOptions(fmt.Sprintf("job%d", i)))
		if _, err := q.Register(ctx, "fp", units); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, q)
	}
	dead, err := clients[3].Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	clients[3].Close()
	if err := clients[3].Complete(ctx, dead.ID, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("complete after close: %v", err)
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for _, q := range clients[:3] {
		for w := range 2 {
			wg.Go(func() {
				done := drain(t, ctx, q, fmt.Sprintf("gw%d", w))
				mu.Lock()
				defer mu.Unlock()
				for _, id := range done {
					counts[id]++
				}
			})
		}
	}
	wg.Wait()
	for _, u := range units {
		if counts[u.ID] != 1 {
			t.Errorf("unit %s completed %d times", u.ID, counts[u.ID])
		}
	}
	got := checkResults(t, ctx, clients[0], units)
	if r := got[dead.ID]; r.Attempt != 2 || strings.HasPrefix(r.By, "job3/") {
		t.Errorf("the dead client's unit: %+v, want attempt 2 by another job", r)
	}
	p, err := clients[0].Progress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Reclaimed != 1 {
		t.Errorf("reclaimed = %d, want 1", p.Reclaimed)
	}
}

// TestLateJoinerHelps: a job that joins when part of the run is done
// takes a share of the rest.
func TestLateJoinerHelps(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	units := plan(40, 0)
	a := open(t, s, "late", testOptions("a"))
	if _, err := a.Register(ctx, "fp", units); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		l, err := a.Lease(ctx, "gw0")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Complete(ctx, l.ID, resultFor(l.ID, "a")); err != nil {
			t.Fatal(err)
		}
	}
	b := open(t, s, "late", testOptions("b"))
	if first, err := b.Register(ctx, "fp", nil); err != nil || first {
		t.Fatalf("late register: %v %v", first, err)
	}
	var aDone, bDone []string
	var wg sync.WaitGroup
	wg.Go(func() { aDone = drain(t, ctx, a, "gw0") })
	wg.Go(func() { bDone = drain(t, ctx, b, "gw0") })
	wg.Wait()
	if len(bDone) == 0 {
		t.Errorf("the late job took no unit (a took %d)", len(aDone))
	}
	if len(aDone)+len(bDone) != 30 {
		t.Errorf("%d + %d units after the join, want 30", len(aDone), len(bDone))
	}
	checkResults(t, ctx, b, units)
}

func TestRequeueAndShutdown(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	a := open(t, s, "requeue", testOptions("a"))
	b := open(t, s, "requeue", testOptions("b"))
	for _, q := range []*Queue{a, b} {
		if _, err := q.Register(ctx, "fp", plan(3, 0)); err != nil {
			t.Fatal(err)
		}
	}
	l0, _ := a.Lease(ctx, "gw0")
	l1, _ := a.Lease(ctx, "gw1")
	if err := b.Requeue(ctx, l0.ID); !errors.Is(err, ErrNotLeased) {
		t.Fatalf("requeue of another job's lease: %v", err)
	}
	if err := a.Requeue(ctx, l0.ID); err != nil {
		t.Fatal(err)
	}
	// A requeued unit goes to the head of the queue.
	if l, err := b.Lease(ctx, "gw0"); err != nil || l.ID != l0.ID || l.Attempt != 2 {
		t.Fatalf("lease after requeue = %+v, %v; want %s attempt 2", l, err, l0.ID)
	}
	// Shutdown gives l1 back at once, without waiting for the timeout.
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("close after shutdown: %v", err)
	}
	start := time.Now()
	if l, err := b.Lease(ctx, "gw1"); err != nil || l.ID != l1.ID || l.Reclaimed != "" {
		t.Fatalf("lease after shutdown = %+v, %v; want %s from the queue", l, err, l1.ID)
	}
	if d := time.Since(start); d > testLease/2 {
		t.Errorf("leasing the shut-down job's unit took %v", d)
	}
}

// TestLapsedLeaseLateResultDropped: a job that stops renewing (closed
// here, as good as stopped) loses its unit to another job after the lease
// timeout; its late result is a duplicate and the run keeps the other.
// (TestStoppedProcess does the same with a real SIGSTOP.)
func TestLapsedLeaseLateResultDropped(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	a := open(t, s, "lapse", testOptions("a"))
	b := open(t, s, "lapse", testOptions("b"))
	for _, q := range []*Queue{a, b} {
		if _, err := q.Register(ctx, "fp", plan(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// b leases and stalls: a takes the unit over.
	lb, err := b.Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	b.Close() // no more heartbeats, as if stopped
	b2 := open(t, s, "lapse", testOptions("b"))
	if _, err := b2.Register(ctx, "fp", nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	la, err := a.Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < testLease/2 {
		t.Errorf("took over after %v, before the lease of %v lapsed", waited, testLease)
	}
	if la.ID != lb.ID || la.Reclaimed != "b/gw0" || la.Attempt != 2 {
		t.Fatalf("takeover = %+v", la)
	}
	if err := a.Complete(ctx, la.ID, []byte("a's")); err != nil {
		t.Fatal(err)
	}
	// b wakes up and reports (through a new connection of the same job).
	err = b2.Complete(ctx, lb.ID, []byte("b's"))
	var dup *DuplicateError
	if !errors.As(err, &dup) || dup.By != "a/gw0" {
		t.Fatalf("late result: %v, want *DuplicateError by a/gw0", err)
	}
	for r, err := range a.Results(ctx) {
		if err != nil || string(r.Data) != "a's" || r.By != "a/gw0" || r.Attempt != 2 {
			t.Errorf("result %+v, %v", r, err)
		}
	}
}

// TestLateResultOfRequeuedUnit: a stalled job's unit is taken over, then
// requeued by the job that took it; the stalled job's late result is
// accepted (it is the first) and the unit leaves the queue, so nobody
// runs it again.
func TestLateResultOfRequeuedUnit(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	a := open(t, s, "requeued", testOptions("a"))
	b := open(t, s, "requeued", testOptions("b"))
	for _, q := range []*Queue{a, b} {
		if _, err := q.Register(ctx, "fp", plan(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	la, err := a.Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	lb, err := b.Lease(ctx, "gw0")
	if err != nil || lb.ID != la.ID {
		t.Fatalf("takeover = %+v, %v", lb, err)
	}
	if err := b.Requeue(ctx, lb.ID); err != nil {
		t.Fatal(err)
	}
	a2 := open(t, s, "requeued", testOptions("a"))
	if err := a2.Complete(ctx, la.ID, resultFor(la.ID, "a")); err != nil {
		t.Fatalf("late result of a requeued unit: %v", err)
	}
	p, err := b.Progress(ctx)
	if err != nil || p.Pending != 0 || p.Leased != 0 || p.Done != 1 {
		t.Fatalf("progress = %+v, %v; want the unit done and out of the queue", p, err)
	}
	if _, err := b.Lease(ctx, "gw0"); !errors.Is(err, ErrDrained) {
		t.Fatalf("lease: %v, want ErrDrained", err)
	}
}

func TestKeepaliveHoldsLeases(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	var logMu sync.Mutex
	var logs []string
	opts := testOptions("a")
	opts.Logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	a := open(t, s, "keep", opts)
	b := open(t, s, "keep", testOptions("b"))
	for _, q := range []*Queue{a, b} {
		if _, err := q.Register(ctx, "fp", plan(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := a.Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	// b waits for three lease timeouts: a's keepalive keeps the unit.
	short, cancel := context.WithTimeout(ctx, 3*testLease)
	defer cancel()
	if got, err := b.Lease(short, "gw0"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b leased %+v, %v while a renews", got, err)
	}
	if err := a.Complete(ctx, l.ID, nil); err != nil {
		t.Fatal(err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if len(logs) > 0 {
		t.Errorf("keepalive logged %q", logs)
	}
}

func TestHeartbeatReportsLostLease(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	a := open(t, s, "lost", testOptions("a"))
	b := open(t, s, "lost", testOptions("b"))
	for _, q := range []*Queue{a, b} {
		if _, err := q.Register(ctx, "fp", plan(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := a.Lease(ctx, "gw0")
	if err != nil {
		t.Fatal(err)
	}
	a.Close() // stalls; b takes the unit over once the lease lapses
	lb, err := b.Lease(ctx, "gw0")
	if err != nil || lb.ID != l.ID {
		t.Fatalf("takeover: %+v %v", lb, err)
	}
	// a wakes up with its old lease: the heartbeat reports it lost.
	a2 := open(t, s, "lost", testOptions("a"))
	a2.mu.Lock()
	a2.registered = true
	a2.held[l.ID] = "a/gw0#1"
	a2.mu.Unlock()
	lost, err := a2.Heartbeat(ctx)
	if err != nil || !slices.Equal(lost, []string{l.ID}) {
		t.Fatalf("heartbeat = %v, %v; want %s lost", lost, err, l.ID)
	}
	if err := a2.Requeue(ctx, l.ID); !errors.Is(err, ErrNotLeased) {
		t.Fatalf("requeue of a lost lease: %v", err)
	}
}

func TestWaitDeadlineNamesMissing(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	merger := open(t, s, "wait", testOptions("merge"))
	if err := merger.Wait(ctx, time.Now().Add(50*time.Millisecond)); !errors.Is(err, ErrNoPlan) {
		t.Fatalf("wait with no plan: %v, want ErrNoPlan", err)
	}
	a := open(t, s, "wait", testOptions("a"))
	if _, err := a.Register(ctx, "fp", plan(4, 0)); err != nil {
		t.Fatal(err)
	}
	l0, _ := a.Lease(ctx, "gw0")
	a.Complete(ctx, l0.ID, nil)
	l1, _ := a.Lease(ctx, "gw1") // held, no result
	start := time.Now()
	err := merger.Wait(ctx, time.Now().Add(100*time.Millisecond))
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("wait returned after %v", d)
	}
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("wait: %v, want *IncompleteError", err)
	}
	want := []Missing{{ID: l1.ID, Holder: "a/gw1"}, {ID: "u002"}, {ID: "u003"}}
	if !slices.Equal(ie.Missing, want) || ie.Total != 4 {
		t.Errorf("missing = %+v, want %+v", ie.Missing, want)
	}
	msg := err.Error()
	for _, s := range []string{`"u001" (leased by a/gw1)`, `"u002" (queued)`, `"u003" (queued)`, "3 of 4 units"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
	// A waiting merger sees the run complete when the units come in.
	go func() {
		a.Complete(ctx, l1.ID, nil)
		drain(t, ctx, a, "gw0")
	}()
	if err := merger.Wait(ctx, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestIncompleteErrorNamesAtMost20(t *testing.T) {
	e := &IncompleteError{Run: "r", Total: 100}
	for i := range 30 {
		e.Missing = append(e.Missing, Missing{ID: fmt.Sprintf("u%d", i)})
	}
	msg := e.Error()
	if !strings.Contains(msg, `"u19" (queued) and 10 more`) || strings.Contains(msg, `"u20"`) {
		t.Errorf("message %q", msg)
	}
}

func TestKeysExpire(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	opts := testOptions("a")
	opts.LeaseTimeout = 150 * time.Millisecond
	opts.Expiry = 400 * time.Millisecond
	opts.Prefix = "test:"
	a := open(t, s, "expire", opts)
	if _, err := a.Register(ctx, "fp", plan(3, 0)); err != nil {
		t.Fatal(err)
	}
	l, _ := a.Lease(ctx, "gw0")
	a.Complete(ctx, l.ID, []byte("r"))
	if _, err := a.Lease(ctx, "gw0"); err != nil { // one held: owner, leased exist
		t.Fatal(err)
	}
	keys := func() map[string]time.Duration {
		t.Helper()
		got := map[string]time.Duration{}
		names, err := a.rdb.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range names {
			got[k], err = a.rdb.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	got := keys()
	for _, name := range keyNames {
		k := "test:{expire}:" + name
		ttl, ok := got[k]
		if !ok && name != "pending" { // pending still holds u002; all exist
			t.Errorf("key %s missing; keys %v", k, got)
			continue
		}
		if ok && (ttl <= 0 || ttl > opts.Expiry) {
			t.Errorf("key %s has TTL %v, want in (0, %v]", k, ttl, opts.Expiry)
		}
		delete(got, k)
	}
	if len(got) > 0 {
		t.Errorf("keys outside the run's prefix: %v", got)
	}
	// While a client is active the expiry is refreshed.
	time.Sleep(2 * opts.Expiry)
	if n := len(keys()); n != int(numKeys) {
		t.Errorf("%d keys left after %v with the job alive, want %d", n, 2*opts.Expiry, numKeys)
	}
	a.Close()
	b := open(t, s, "other", testOptions("b"))
	time.Sleep(opts.Expiry + 100*time.Millisecond)
	names, err := b.rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) > 0 {
		t.Errorf("keys left after the expiry: %v", names)
	}
	if _, err := b.Progress(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	q := open(t, s, "closed", testOptions("a"))
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	checks := map[string]error{}
	_, checks["register"] = q.Register(ctx, "fp", nil)
	_, checks["lease"] = q.Lease(ctx, "gw0")
	checks["complete"] = q.Complete(ctx, "u", nil)
	checks["requeue"] = q.Requeue(ctx, "u")
	_, checks["progress"] = q.Progress(ctx)
	checks["wait"] = q.Wait(ctx, time.Time{})
	_, checks["heartbeat"] = q.Heartbeat(ctx)
	for _, err := range q.Results(ctx) {
		checks["results"] = err
	}
	for op, err := range checks {
		if op == "requeue" {
			continue // nothing held: ErrNotLeased or ErrClosed are both right
		}
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", op, err)
		}
	}
}

func TestRegisterRefusesBadPlans(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	q := open(t, s, "bad", testOptions("a"))
	for name, units := range map[string][]Unit{
		"empty ID":  {{ID: "a"}, {ID: ""}},
		"duplicate": {{ID: "a"}, {ID: "b"}, {ID: "a"}},
	} {
		if _, err := q.Register(ctx, "fp", units); err == nil {
			t.Errorf("%s: registered", name)
		}
	}
	if _, err := q.Register(ctx, "", nil); err == nil {
		t.Error("empty fingerprint registered")
	}
	if _, err := q.Lease(ctx, "gw#1"); err == nil {
		t.Error("worker name with # accepted")
	}
	// An empty plan is drained at once.
	if _, err := q.Register(ctx, "fp", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Lease(ctx, "gw0"); !errors.Is(err, ErrDrained) {
		t.Fatalf("lease of an empty plan: %v", err)
	}
	if err := q.Wait(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestLargePlan(t *testing.T) {
	s := redistest.Start(t)
	ctx := testCtx(t)
	q := open(t, s, "large", testOptions("a"))
	units := plan(3000, 0)
	if _, err := q.Register(ctx, "fp", units); err != nil {
		t.Fatal(err)
	}
	p, err := q.Progress(ctx)
	if err != nil || p.Total != 3000 || p.Pending != 3000 {
		t.Fatalf("progress %+v, %v", p, err)
	}
	n := 0
	for r, err := range q.Results(ctx) {
		if err != nil || r.ID != units[n].ID || r.Done {
			t.Fatalf("result %d = %+v, %v", n, r, err)
		}
		n++
	}
	if n != 3000 {
		t.Errorf("%d results, want 3000", n)
	}
}
