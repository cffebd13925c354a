package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unit is one piece of work. The queue does not look inside it.
type Unit struct {
	ID      string // unique within the plan
	Payload []byte // what a job needs to run it
}

// Lease is a unit leased to one worker of this job. It stays this job's
// while the keepalive renews it; Complete or Requeue ends it.
type Lease struct {
	Unit
	// Attempt counts the unit's leases: 1 the first time, more after a
	// lost or requeued lease. A caller may give up on a unit that keeps
	// killing its jobs by completing it with a failure.
	Attempt int
	// Reclaimed is JOB/WORKER of the lapsed lease this one took over, or
	// "" for a unit taken from the queue.
	Reclaimed string
	// Expires is when the lease lapses without a heartbeat, on this
	// machine's clock (the server's clock decides).
	Expires time.Time
}

// Register registers the plan of the run, or joins it. The first job to
// call it writes units, in the order they should be handed out (longest
// first), and fingerprint, atomically: the others see all of the plan or
// none of it. A later job with the same fingerprint joins (registered is
// false; its units are ignored: the plan is the first job's); one with
// another fingerprint gets a *FingerprintError and must not take units.
// Unit IDs must be unique and non-empty.
func (q *Queue) Register(ctx context.Context, fingerprint string, units []Unit) (registered bool, err error) {
	if q.isClosed() {
		return false, fmt.Errorf("queue %s: register: %w", q.run, ErrClosed)
	}
	if fingerprint == "" {
		return false, fmt.Errorf("queue %s: register: empty fingerprint", q.run)
	}
	seen := make(map[string]bool, len(units))
	args := make([]any, 0, 4+2*len(units))
	args = append(args, q.ttl(), fingerprint, q.job, len(units))
	for _, u := range units {
		if u.ID == "" {
			return false, fmt.Errorf("queue %s: register: a unit has an empty ID", q.run)
		}
		if seen[u.ID] {
			return false, fmt.Errorf("queue %s: register: unit %q twice in the plan", q.run, u.ID)
		}
		seen[u.ID] = true
		args = append(args, u.ID)
	}
	for _, u := range units {
		args = append(args, u.Payload)
	}
	res, err := registerScript.Run(ctx, q.rdb, q.keys, args...).Slice()
	if err != nil {
		return false, q.wrap("register", err)
	}
	if len(res) != 3 {
		return false, fmt.Errorf("queue %s: register: unexpected reply %v", q.run, res)
	}
	first, _ := res[0].(int64)
	plan, _ := res[1].(string)
	by, _ := res[2].(string)
	if plan != fingerprint {
		return false, &FingerprintError{Run: q.run, Plan: plan, RegisteredBy: by, Got: fingerprint}
	}
	q.mu.Lock()
	q.registered = true
	q.mu.Unlock()
	// A retried request finds the plan its first try wrote.
	return first == 1 || by == q.job, nil
}

// Lease leases the next unit to worker (a name within this job, like
// gw3): a lapsed lease of another job first, else the head of the queue.
// With nothing to take while other jobs hold leases, it waits (polling
// every PollInterval, or until the next lease could lapse) until a unit
// comes back, the run is done (ErrDrained), ctx ends or Close.
func (q *Queue) Lease(ctx context.Context, worker string) (Lease, error) {
	if err := checkName("worker", worker); err != nil {
		return Lease{}, fmt.Errorf("queue %s: lease: %w", q.run, err)
	}
	holder := q.job + "/" + worker
	for {
		if q.isClosed() {
			return Lease{}, fmt.Errorf("queue %s: lease: %w", q.run, ErrClosed)
		}
		q.mu.Lock()
		registered := q.registered
		q.mu.Unlock()
		if !registered {
			return Lease{}, fmt.Errorf("queue %s: lease: %w", q.run, ErrNotRegistered)
		}
		res, err := leaseScript.Run(ctx, q.rdb, q.keys, q.ttl(), q.opts.LeaseTimeout.Milliseconds(), holder, q.job).Slice()
		if err != nil {
			return Lease{}, q.wrap("lease", err)
		}
		kind, _ := res[0].(string)
		switch {
		case kind == "unit" && len(res) == 7:
			id, _ := res[1].(string)
			payload, _ := res[2].(string)
			attempt, _ := res[3].(int64)
			token, _ := res[4].(string)
			ms, _ := res[5].(int64)
			prev, _ := res[6].(string)
			q.mu.Lock()
			q.held[id] = token
			q.mu.Unlock()
			return Lease{
				Unit:      Unit{ID: id, Payload: []byte(payload)},
				Attempt:   int(attempt),
				Reclaimed: holderOf(prev),
				Expires:   time.Now().Add(time.Duration(ms) * time.Millisecond),
			}, nil
		case kind == "drained":
			return Lease{}, ErrDrained
		case kind == "none":
			return Lease{}, fmt.Errorf("queue %s: lease: %w (expired?)", q.run, ErrNoPlan)
		case kind == "wait" && len(res) == 2:
			ms, _ := res[1].(int64)
			wait := q.opts.PollInterval
			if ms == 0 {
				// Nothing pending, nothing leased, yet results are missing:
				// the keys were changed behind the queue's back.
				return Lease{}, fmt.Errorf("queue %s: lease: inconsistent run: units neither queued, leased nor done", q.run)
			}
			if d := time.Duration(ms)*time.Millisecond + time.Millisecond; d < wait {
				wait = d
			}
			if err := q.sleep(ctx, wait); err != nil {
				return Lease{}, fmt.Errorf("queue %s: lease: %w", q.run, err)
			}
		default:
			return Lease{}, fmt.Errorf("queue %s: lease: unexpected reply %v", q.run, res)
		}
	}
}

// sleep waits d, or until ctx ends or Close.
func (q *Queue) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-q.closing:
		return ErrClosed
	}
}

// Complete records result as the unit's result. The first result of a
// unit is kept; a later one, from a job whose lease lapsed while it ran
// the unit, is dropped and Complete returns a *DuplicateError
// (errors.Is(err, ErrDuplicate)). A unit can be completed without a
// current lease: the first result still wins. Repeating a call that
// succeeded (a retried request) is not a duplicate.
func (q *Queue) Complete(ctx context.Context, unitID string, result []byte) error {
	if q.isClosed() {
		return fmt.Errorf("queue %s: complete %q: %w", q.run, unitID, ErrClosed)
	}
	q.mu.Lock()
	token, ok := q.held[unitID]
	if !ok {
		// No lease (lost, or never taken): a token of its own, so that a
		// retried request is still recognised as this call.
		q.nonce++
		token = fmt.Sprintf("%s/-#0.%d.%d", q.job, time.Now().UnixNano(), q.nonce)
	}
	q.mu.Unlock()
	res, err := completeScript.Run(ctx, q.rdb, q.keys, q.ttl(), unitID, result, token).Slice()
	if err != nil {
		return q.wrap(fmt.Sprintf("complete %q", unitID), err)
	}
	q.mu.Lock()
	if q.held[unitID] == token {
		delete(q.held, unitID)
	}
	q.mu.Unlock()
	kind, _ := res[0].(string)
	switch kind {
	case "ok":
		return nil
	case "dup":
		by := ""
		if len(res) > 1 {
			by, _ = res[1].(string)
		}
		return &DuplicateError{Run: q.run, Unit: unitID, By: holderOf(by)}
	case "unknown":
		return fmt.Errorf("queue %s: complete %q: %w", q.run, unitID, ErrUnknownUnit)
	case "none":
		return fmt.Errorf("queue %s: complete %q: %w (expired?)", q.run, unitID, ErrNoPlan)
	}
	return fmt.Errorf("queue %s: complete %q: unexpected reply %v", q.run, unitID, res)
}

// Requeue gives back a unit this client leased and could not run: it goes
// to the head of the queue for any job to take. It returns ErrNotLeased
// when the lease is no longer this client's.
func (q *Queue) Requeue(ctx context.Context, unitID string) error {
	if q.isClosed() {
		return fmt.Errorf("queue %s: requeue %q: %w", q.run, unitID, ErrClosed)
	}
	q.mu.Lock()
	token, ok := q.held[unitID]
	q.mu.Unlock()
	if !ok {
		return fmt.Errorf("queue %s: requeue %q: %w", q.run, unitID, ErrNotLeased)
	}
	n, err := requeueScript.Run(ctx, q.rdb, q.keys, q.ttl(), unitID, token).Int()
	if err != nil {
		return q.wrap(fmt.Sprintf("requeue %q", unitID), err)
	}
	q.mu.Lock()
	if q.held[unitID] == token {
		delete(q.held, unitID)
	}
	q.mu.Unlock()
	if n == 0 {
		return fmt.Errorf("queue %s: requeue %q: %w (the lease lapsed and another job took it)", q.run, unitID, ErrNotLeased)
	}
	return nil
}

// holderOf is the JOB/WORKER part of a lease token JOB/WORKER#ATTEMPT.
func holderOf(token string) string {
	if i := strings.LastIndexByte(token, '#'); i >= 0 {
		return token[:i]
	}
	return token
}

// attemptOf is the ATTEMPT part of a lease token (0 for a result given
// without a lease).
func attemptOf(token string) int {
	i := strings.LastIndexByte(token, '#')
	if i < 0 {
		return 0
	}
	s, _, _ := strings.Cut(token[i+1:], ".")
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}
