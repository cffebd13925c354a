package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/internal/redistest"
)

// benchRun registers a plan of n empty units on a fresh run of s and
// returns k joined clients.
func benchRun(b *testing.B, s *redistest.Server, n, k int) []*Queue {
	b.Helper()
	run := fmt.Sprintf("bench-%d-%d", n, time.Now().UnixNano())
	var qs []*Queue
	for i := range k {
		q, err := Open(context.Background(), s.URL(run), Options{Job: fmt.Sprintf("job%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { q.Close() })
		if _, err := q.Register(context.Background(), "fp", plan(n, 0)); err != nil {
			b.Fatal(err)
		}
		qs = append(qs, q)
	}
	return qs
}

// BenchmarkLeaseComplete is one worker's round trip for a unit: Lease,
// then Complete with a 1 KiB result, on loopback.
func BenchmarkLeaseComplete(b *testing.B) {
	s := redistest.Start(b)
	q := benchRun(b, s, b.N, 1)[0]
	result := make([]byte, 1024)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		l, err := q.Lease(ctx, "gw0")
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Complete(ctx, l.ID, result); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThreeClients drains a plan with three clients, one worker
// each, and reports units per second.
func BenchmarkThreeClients(b *testing.B) {
	s := redistest.Start(b)
	qs := benchRun(b, s, b.N, 3)
	result := make([]byte, 1024)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, q := range qs {
		wg.Go(func() {
			for {
				l, err := q.Lease(ctx, "gw0")
				if errors.Is(err, ErrDrained) {
					return
				}
				if err != nil {
					b.Error(err)
					return
				}
				if err := q.Complete(ctx, l.ID, result); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "units/s")
}
