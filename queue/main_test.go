package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("GODIST_QUEUE_HELPER") == "1" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

// Short leases keep the tests fast; the keepalive renews every 1/3. The
// clock that decides when a lease lapses is the Redis server's (TIME in
// the scripts), which testing/synctest cannot fake: the lease tests wait
// real time, a few lease timeouts at most.
const (
	testLease = 400 * time.Millisecond
	testPoll  = 10 * time.Millisecond
)

func testOptions(job string) Options {
	return Options{Job: job, LeaseTimeout: testLease, PollInterval: testPoll}
}

// open opens a client of run on s, closed when the test ends.
func open(t *testing.T, s *redistest.Server, run string, opts Options) *Queue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := Open(ctx, s.URL(run), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// plan is n units u000, u001, ... whose payload is how long a unit takes,
// in milliseconds.
func plan(n int, ms int) []Unit {
	units := make([]Unit, n)
	for i := range units {
		units[i] = Unit{ID: fmt.Sprintf("u%03d", i), Payload: []byte(strconv.Itoa(ms))}
	}
	return units
}

// resultFor is what a job records for a unit, so that the result names
// who ran it.
func resultFor(id, job string) []byte { return []byte("ran " + id + " by " + job) }

// helperMain is the test binary re-executed as one CI job (the os/exec
// tests' pattern): it registers the plan, then leases, "runs" (sleeps the
// payload's milliseconds) and completes units until the run is drained,
// printing one line per event. With GATE_AT=k, its k-th lease prints
// "gate ID" and waits for a line on stdin before running the unit, so the
// parent can kill or stop it while it holds that lease.
func helperMain() int {
	env := func(k string) string { return os.Getenv("QUEUE_" + k) }
	atoi := func(k string) int { n, _ := strconv.Atoi(env(k)); return n }
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	ctx := context.Background()
	opts := Options{
		Job:          env("JOB"),
		LeaseTimeout: time.Duration(atoi("LEASE_MS")) * time.Millisecond,
		PollInterval: testPoll,
	}
	q, err := Open(ctx, env("URL"), opts)
	if err != nil {
		say("error %v", err)
		return 2
	}
	defer q.Close()
	registered, err := q.Register(ctx, env("FINGERPRINT"), plan(atoi("UNITS"), atoi("UNIT_MS")))
	if err != nil {
		say("error %v", err)
		return 3
	}
	say("registered %v", registered)
	gateAt := atoi("GATE_AT")
	stdin := bufio.NewReader(os.Stdin)
	for n := 1; ; n++ {
		l, err := q.Lease(ctx, "gw0")
		if errors.Is(err, ErrDrained) {
			say("drained")
			return 0
		}
		if err != nil {
			say("error %v", err)
			return 4
		}
		if n == gateAt {
			say("gate %s", l.ID)
			if _, err := stdin.ReadString('\n'); err != nil {
				say("error stdin: %v", err)
				return 5
			}
		} else {
			say("leased %s %d", l.ID, l.Attempt)
		}
		ms, _ := strconv.Atoi(string(l.Payload))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		err = q.Complete(ctx, l.ID, resultFor(l.ID, opts.Job))
		var dup *DuplicateError
		switch {
		case errors.As(err, &dup):
			say("dup %s %s", l.ID, dup.By)
		case err != nil:
			say("error %v", err)
			return 6
		default:
			say("done %s", l.ID)
		}
	}
}
