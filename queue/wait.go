package queue

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/redis/go-redis/v9"
)

// Progress is a consistent snapshot of a run (one script, so one instant).
type Progress struct {
	Registered   bool   // a plan exists
	Fingerprint  string // the plan's
	RegisteredBy string // the job that registered it
	Total        int    // units in the plan
	Done         int    // units with a result
	Leased       int    // units leased to a job now
	Lapsed       int    // of those, leases past their deadline, waiting to be taken over
	Pending      int    // units waiting in the queue
	Reclaimed    int    // lapsed leases taken over so far
	// Jobs are the jobs that registered or joined, with when each was last
	// seen; a live job is seen every LeaseTimeout/3.
	Jobs []JobSeen
}

// JobSeen is a job and how long ago it was last seen.
type JobSeen struct {
	Name string
	Ago  time.Duration
}

// Complete reports whether every unit has a result.
func (p Progress) Complete() bool { return p.Registered && p.Done >= p.Total }

// Progress reads the run's state. It needs no Register.
func (q *Queue) Progress(ctx context.Context) (Progress, error) {
	if q.isClosed() {
		return Progress{}, fmt.Errorf("queue %s: progress: %w", q.run, ErrClosed)
	}
	res, err := progressScript.Run(ctx, q.rdb, q.keys).Slice()
	if err != nil {
		return Progress{}, q.wrap("progress", err)
	}
	if len(res) < 9 || len(res)%2 == 0 {
		return Progress{}, fmt.Errorf("queue %s: progress: unexpected reply %v", q.run, res)
	}
	num := func(i int) int { n, _ := res[i].(int64); return int(n) }
	str := func(i int) string { s, _ := res[i].(string); return s }
	p := Progress{
		Fingerprint:  str(0),
		Total:        num(1),
		RegisteredBy: str(2),
		Reclaimed:    num(3),
		Pending:      num(4),
		Leased:       num(5),
		Lapsed:       num(6),
		Done:         num(7),
	}
	p.Registered = p.Fingerprint != ""
	if !p.Registered {
		p.Total = 0
	}
	now := num(8)
	for i := 9; i+1 < len(res); i += 2 {
		seen, err := parseScore(res[i+1])
		if err != nil {
			return Progress{}, fmt.Errorf("queue %s: progress: %v", q.run, err)
		}
		p.Jobs = append(p.Jobs, JobSeen{Name: str(i), Ago: time.Duration(now-seen) * time.Millisecond})
	}
	return p, nil
}

// parseScore reads a sorted-set score as a script returns it: RESP2 gives
// a string, RESP3 a double.
func parseScore(v any) (int, error) {
	switch s := v.(type) {
	case string:
		var n float64
		if _, err := fmt.Sscan(s, &n); err != nil {
			return 0, fmt.Errorf("bad score %q", s)
		}
		return int(n), nil
	case float64:
		return int(s), nil
	case int64:
		return int(s), nil
	}
	return 0, fmt.Errorf("bad score %v", v)
}

// Wait waits until every unit has a result, polling every PollInterval.
// When deadline (if not zero) passes first, it returns an
// *IncompleteError naming the units without a result, or ErrNoPlan if no
// job registered; ctx ending returns its error. The deadline is separate
// from ctx so that the report of what is missing can still be read when
// it passes. Wait needs no Register: a merging job that runs nothing
// uses it.
func (q *Queue) Wait(ctx context.Context, deadline time.Time) error {
	for {
		p, err := q.Progress(ctx)
		if err != nil {
			return err
		}
		if p.Complete() {
			return nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			if !p.Registered {
				return fmt.Errorf("queue %s: wait: %w by the deadline", q.run, ErrNoPlan)
			}
			missing, err := q.Missing(ctx)
			if err != nil {
				return err
			}
			return &IncompleteError{Run: q.run, Total: p.Total, Missing: missing}
		}
		wait := q.opts.PollInterval
		if !deadline.IsZero() {
			wait = min(wait, time.Until(deadline)+time.Millisecond)
		}
		if err := q.sleep(ctx, wait); err != nil {
			return fmt.Errorf("queue %s: wait: %w", q.run, err)
		}
	}
}

// Missing lists the units without a result, in plan order.
func (q *Queue) Missing(ctx context.Context) ([]Missing, error) {
	if q.isClosed() {
		return nil, fmt.Errorf("queue %s: missing: %w", q.run, ErrClosed)
	}
	res, err := missingScript.Run(ctx, q.rdb, q.keys).StringSlice()
	if err != nil {
		return nil, q.wrap("missing", err)
	}
	var missing []Missing
	for i := 0; i+1 < len(res); i += 2 {
		missing = append(missing, Missing{ID: res[i], Holder: holderOf(res[i+1])})
	}
	return missing, nil
}

// Result is a unit of the plan and its result, if it has one.
type Result struct {
	Unit
	Done    bool   // it has a result
	Data    []byte // the result
	By      string // JOB/WORKER that recorded it
	Attempt int    // the lease it came from (0: given without a lease)
}

// resultsBatch is how many units Results reads per round trip.
const resultsBatch = 256

// Results yields every unit of the plan in plan order with its result
// (Done false for one without). It reads in batches; results recorded
// while it runs may or may not be seen, so call it after Wait. An error
// is yielded once, last.
func (q *Queue) Results(ctx context.Context) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		if q.isClosed() {
			yield(Result{}, fmt.Errorf("queue %s: results: %w", q.run, ErrClosed))
			return
		}
		for start := int64(0); ; start += resultsBatch {
			ids, err := q.rdb.LRange(ctx, q.keys[keyOrder], start, start+resultsBatch-1).Result()
			if err != nil {
				yield(Result{}, q.wrap("results", err))
				return
			}
			if len(ids) == 0 {
				return
			}
			var payloads, results, bys *redis.SliceCmd
			_, err = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				payloads = p.HMGet(ctx, q.keys[keyUnits], ids...)
				results = p.HMGet(ctx, q.keys[keyResults], ids...)
				bys = p.HMGet(ctx, q.keys[keyBy], ids...)
				return nil
			})
			if err != nil {
				yield(Result{}, q.wrap("results", err))
				return
			}
			for i, id := range ids {
				r := Result{Unit: Unit{ID: id}}
				if s, ok := payloads.Val()[i].(string); ok {
					r.Payload = []byte(s)
				}
				if s, ok := results.Val()[i].(string); ok {
					r.Done, r.Data = true, []byte(s)
				}
				if s, ok := bys.Val()[i].(string); ok {
					r.By, r.Attempt = holderOf(s), attemptOf(s)
				}
				if !yield(r, nil) {
					return
				}
			}
			if len(ids) < resultsBatch {
				return
			}
		}
	}
}
