// Package queue is a shared work queue on Redis for CI jobs that split one
// run between them: every job registers the same plan, takes units from
// one queue, runs them and records their results, and a merging job waits
// until every unit has a result and reads them in plan order. Nothing is
// lost when a job dies or stalls, and no unit gets two results. The model
// is Shopify's ci-queue.
//
// Units and results are opaque: a unit is an ID and payload bytes, a
// result is bytes. What they mean (a batch of tests, a go test -json
// stream) is the caller's.
//
// # Use
//
//	q, err := queue.Open(ctx, "redis://ci-redis:6379/"+runID, queue.Options{PasswordEnv: "REDIS_PASSWORD"})
//	defer q.Close()
//	if _, err := q.Register(ctx, fingerprint, units); err != nil { ... } // *FingerprintError: other code
//	for {
//		l, err := q.Lease(ctx, "gw0")
//		if errors.Is(err, queue.ErrDrained) { break }
//		...
//		err = q.Complete(ctx, l.ID, result) // ErrDuplicate: a lapsed lease, dropped
//	}
//
// and in the merging job: q.Wait(ctx, deadline), then range q.Results(ctx).
//
// # Data model
//
// A run is named by the URL's path, RUN. Its keys are PREFIX{RUN}:NAME
// (PREFIX is "godist:queue:" by default; the braces are a Redis Cluster
// hash tag, so all of a run's keys share a slot):
//
//	meta      hash        fingerprint, total, registered_by, created_ms, reclaimed
//	units     hash        unit ID → payload
//	order     list        unit IDs in plan order
//	pending   list        unit IDs waiting for a lease, next at the head
//	leased    sorted set  unit ID → lease deadline (ms, the Redis server's clock)
//	owner     hash        unit ID → token of its lease, JOB/WORKER#ATTEMPT
//	results   hash        unit ID → result
//	by        hash        unit ID → token of the lease that gave the result
//	attempts  hash        unit ID → number of leases so far
//	jobs      sorted set  job → last seen (ms)
//
// Every change is one Lua script (EVALSHA), so it is atomic and sees one
// instant of the run; time is the server's TIME, so CI machines' clocks do
// not matter. Each writing script refreshes the expiry of all the run's
// keys (PEXPIRE, Options.Expiry, 24 h by default), so a run lives while
// jobs use it and disappears a day after the last one stopped.
//
//   - Register: if meta has no fingerprint, write meta, units, order and
//     pending in one script (the first job wins; the others see all the
//     plan or none); else compare fingerprints: equal joins, different is a
//     *FingerprintError and the job must take nothing.
//   - Lease: the first lease in leased whose deadline has passed is taken
//     over (reclaim: any live job does it, no reaper process), else LPOP
//     pending; the unit gets a new deadline in leased and a new token in
//     owner. With nothing to take but leases outstanding, Lease polls.
//   - Heartbeat (the keepalive goroutine, every LeaseTimeout/3): extend
//     each lease whose owner token is still this lease's (ZADD XX); report
//     the others as lost.
//   - Complete: HSETNX results — the first result stays; then remove the
//     lease. A later result is a *DuplicateError and is dropped.
//   - Requeue: if the owner token is the caller's, drop the lease and LPUSH
//     the unit back to the head of pending.
//
// Invariant: every unit of the plan is in exactly one of pending, leased
// and results.
//
// # Guarantees
//
// Nothing lost: a unit leaves pending only into leased, and leaves leased
// only into results (Complete) or back to a job (reclaim, Requeue). A job
// that is killed, cut off or stopped (SIGSTOP) past the lease timeout
// stops renewing; its leases lapse and the next Lease of any job takes the
// units over.
//
// Nothing twice: each unit has at most one result, the first recorded. A
// stalled job that wakes up and reports a unit that was run again
// elsewhere gets ErrDuplicate if the other result came first — or its own
// result is kept and the other job's is the duplicate. Either way exactly
// one is kept, and the merged run shows each unit once.
//
// # Limits
//
//   - At least once, not exactly once, execution: a unit whose lease lapsed
//     may run twice (its job was only slow); only its result is once. A
//     unit that kills every job running it comes back forever: Lease.Attempt
//     lets the caller give up on it by completing it with a failure.
//   - The lease timeout is the trade-off: a job stalled for less keeps its
//     units; a unit running longer is kept only by heartbeats, so a job's
//     keepalive must not be starved for LeaseTimeout.
//   - A request whose reply is lost (network cut after the script ran) and
//     is retried: Register and Complete recognise their own retry; a
//     retried Lease can leave one orphan lease, which lapses and is taken
//     over after the timeout — late, not lost.
//   - A run ID is for one run: a job that joins a finished run of the same
//     ID and fingerprint finds it drained. Use a unique ID per CI run (for
//     instance the CI's run ID and attempt).
//   - Redis is trusted: a Redis that loses writes (failover to a replica
//     that had not received them, a restart without persistence) can lose
//     results or hand a unit out again. Register writes the whole plan in
//     one script, which blocks the server while it runs (milliseconds for
//     thousands of units).
//
// # Goroutines and Close
//
// Open starts one goroutine, the keepalive; Close stops it, waits for it
// and closes the connection pool. Close does not give leases back (they
// lapse after the timeout, as if the job had died); Shutdown requeues them
// first. After Close every method returns ErrClosed.
//
// The first Open silences go-redis's logger, which is one for the whole
// process (redis.SetLogger): what it would print on stderr comes back as
// errors anyway.
//
// # Security
//
// The password, from the URL or the environment variable named in
// Options.PasswordEnv, is never part of an error or of String or GoString.
// rediss:// URLs use TLS (system roots unless Options.TLSConfig). Whoever
// can write the run's keys can inject results: give the CI's Redis a
// password and keep it off public networks.
package queue
