package queue

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Defaults for Options.
const (
	DefaultLeaseTimeout = 30 * time.Second
	DefaultExpiry       = 24 * time.Hour
	DefaultPollInterval = 250 * time.Millisecond
	DefaultPrefix       = "godist:queue:"
)

// Options configure a Queue. The zero value is usable.
type Options struct {
	// PasswordEnv names an environment variable holding the password,
	// used when the URL has none (a password in the URL wins). An unset
	// or empty variable means no password.
	PasswordEnv string
	// Job names this client in leases and results (JOB/WORKER); default
	// HOSTNAME-PID. It may not contain '#' or control characters.
	Job string
	// LeaseTimeout is how long a lease lasts without a heartbeat: a job
	// that stalls longer loses its units to the others. The client
	// renews its leases every LeaseTimeout/3. Default 30 s.
	LeaseTimeout time.Duration
	// Expiry is how long the run's keys outlive the last write to them
	// (every lease, result and heartbeat refreshes it). Default 24 h; at
	// least LeaseTimeout.
	Expiry time.Duration
	// PollInterval is how often a Lease with nothing to take, and Wait,
	// look again. Default 250 ms.
	PollInterval time.Duration
	// Prefix starts every key name. Default "godist:queue:".
	Prefix string
	// TLSConfig is used for rediss:// URLs; default: the system roots, the
	// URL's host as server name, TLS 1.2 or later.
	TLSConfig *tls.Config
	// Logf, if set, is told what the keepalive goroutine cannot return:
	// failed heartbeats and lost leases.
	Logf func(format string, args ...any)
}

// Queue is one client of one run's queue. Its methods are safe for
// concurrent use by the job's workers.
//
// Open starts one goroutine, the keepalive, which renews this client's
// leases (Heartbeat) every LeaseTimeout/3 once Register has succeeded.
// Close stops it and waits for it.
type Queue struct {
	rdb    *redis.Client
	run    string
	url    string // redacted
	secret *string
	keys   []string
	job    string
	opts   Options

	mu         sync.Mutex
	registered bool
	held       map[string]string // unit ID → token of this client's lease
	nonce      int

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Open connects to the queue of the run named by url,
// redis://[[USER]:PASSWORD@]HOST[:PORT]/RUN[?db=N] or rediss:// for TLS.
// ctx bounds only the connection check (PING). The URL's password never
// appears in an error or in String.
func Open(ctx context.Context, url string, opts Options) (*Queue, error) {
	t, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	if err := opts.fill(); err != nil {
		return nil, fmt.Errorf("queue %s: %w", t.redacted, err)
	}
	if t.password == "" && opts.PasswordEnv != "" {
		t.password = os.Getenv(opts.PasswordEnv)
	}
	ro := &redis.Options{
		Addr:                  t.addr,
		Username:              t.username,
		Password:              t.password,
		DB:                    t.db,
		ContextTimeoutEnabled: true,
		// The queue needs none of the cluster-maintenance push
		// notifications, and their auto mode logs when a server lacks them.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if t.tls {
		if opts.TLSConfig != nil {
			ro.TLSConfig = opts.TLSConfig.Clone()
		} else {
			ro.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if ro.TLSConfig.ServerName == "" {
			ro.TLSConfig.ServerName = t.host
		}
	}
	silenceOnce.Do(func() { redis.SetLogger(discardLogger{}) })
	q := &Queue{
		rdb:     redis.NewClient(ro),
		run:     t.run,
		url:     t.redacted,
		secret:  &t.password,
		job:     opts.Job,
		opts:    opts,
		held:    map[string]string{},
		closing: make(chan struct{}),
	}
	// One hash tag for the run: in a Redis Cluster all its keys share a
	// slot, as the scripts that touch them together require.
	for _, name := range keyNames {
		q.keys = append(q.keys, opts.Prefix+"{"+t.run+"}:"+name)
	}
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		q.rdb.Close()
		return nil, q.wrap("connect", err)
	}
	q.wg.Add(1)
	go q.keepalive()
	return q, nil
}

// go-redis logs connection-pool failures to stderr through one logger for
// the whole process. Every failure it logs also comes back as the error of
// the command that met it, which the queue returns, and a stray line on
// godist's stderr would corrupt the go test output it imitates: Open
// silences that logger, once, for the process.
var silenceOnce sync.Once

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

func (o *Options) fill() error {
	if o.LeaseTimeout == 0 {
		o.LeaseTimeout = DefaultLeaseTimeout
	}
	if o.Expiry == 0 {
		o.Expiry = DefaultExpiry
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Job == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "job"
		}
		o.Job = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	switch {
	case o.LeaseTimeout < 3*time.Millisecond:
		return fmt.Errorf("lease timeout %v is too short", o.LeaseTimeout)
	case o.Expiry < o.LeaseTimeout:
		return fmt.Errorf("expiry %v is shorter than the lease timeout %v", o.Expiry, o.LeaseTimeout)
	case o.PollInterval <= 0:
		return fmt.Errorf("poll interval %v is not positive", o.PollInterval)
	}
	if err := checkName("job", o.Job); err != nil {
		return err
	}
	return nil
}

// checkName refuses what would make a lease token ambiguous or a log line
// misleading.
func checkName(what, name string) error {
	if name == "" || strings.ContainsAny(name, "#") || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("bad %s name %q: want a non-empty name without '#' or control characters", what, name)
	}
	return nil
}

// String is the queue's URL with the password redacted.
func (q *Queue) String() string { return q.url }

// GoString is String, so that %#v cannot print the password either.
func (q *Queue) GoString() string { return "queue.Queue(" + q.url + ")" }

// Run is the run ID, the URL's path.
func (q *Queue) Run() string { return q.run }

// Job is this client's job name.
func (q *Queue) Job() string { return q.job }

// ttl is ARGV[1] of every script.
func (q *Queue) ttl() int64 { return q.opts.Expiry.Milliseconds() }

// wrap prefixes err with the run and operation and removes the password
// from its message, should the lower layer have quoted it.
func (q *Queue) wrap(op string, err error) error {
	msg := err.Error()
	if s := *q.secret; s != "" {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return fmt.Errorf("queue %s: %s: %w", q.run, op, &redactedError{msg: msg, err: err})
}

// isClosed reports whether Close has begun.
func (q *Queue) isClosed() bool {
	select {
	case <-q.closing:
		return true
	default:
		return false
	}
}

// keepalive renews this client's leases every LeaseTimeout/3 until Close.
func (q *Queue) keepalive() {
	defer q.wg.Done()
	every := q.opts.LeaseTimeout / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-q.closing:
			return
		case <-tick.C:
		}
		q.mu.Lock()
		registered := q.registered
		q.mu.Unlock()
		if !registered {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		lost, err := q.Heartbeat(ctx)
		cancel()
		if q.opts.Logf == nil {
			continue
		}
		if err != nil && !errors.Is(err, ErrClosed) {
			q.opts.Logf("%v", err)
		}
		for _, id := range lost {
			q.opts.Logf("queue %s: lease of %q lost (it lapsed and another job took it, or the run is gone); a result for it is still accepted if it comes first", q.run, id)
		}
	}
}

// Heartbeat renews every lease this client holds, refreshes the run's
// expiry and marks the job as seen. It returns the units whose lease was
// lost: they lapsed and another job took them over (their results are
// still accepted if they come first). The keepalive goroutine calls it;
// callers need not.
func (q *Queue) Heartbeat(ctx context.Context) (lost []string, err error) {
	if q.isClosed() {
		return nil, fmt.Errorf("queue %s: heartbeat: %w", q.run, ErrClosed)
	}
	q.mu.Lock()
	sent := maps.Clone(q.held)
	q.mu.Unlock()
	args := []any{q.ttl(), q.opts.LeaseTimeout.Milliseconds(), q.job}
	for id, token := range sent {
		args = append(args, id, token)
	}
	reply, err := heartbeatScript.Run(ctx, q.rdb, q.keys, args...).StringSlice()
	if err != nil {
		return nil, q.wrap("heartbeat", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, id := range reply {
		// Completed or requeued meanwhile, or leased again with a new
		// token: not lost.
		if q.held[id] == sent[id] {
			delete(q.held, id)
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// Close stops the keepalive and closes the connections. Leases still held
// are not given back: they lapse after the lease timeout and other jobs
// take the units over (Shutdown gives them back at once). Close is
// idempotent; later calls of other methods return ErrClosed.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		close(q.closing)
		q.wg.Wait()
		if err := q.rdb.Close(); err != nil {
			q.closeErr = q.wrap("close", err)
		}
	})
	return q.closeErr
}

// Shutdown gives back every lease this client still holds (Requeue), so
// other jobs can take the units at once, then closes. ctx bounds the
// requeues; Close follows whatever happens.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	ids := make([]string, 0, len(q.held))
	for id := range q.held {
		ids = append(ids, id)
	}
	q.mu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := q.Requeue(ctx, id); err != nil && !errors.Is(err, ErrNotLeased) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, q.Close())
	return errors.Join(errs...)
}
