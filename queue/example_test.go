package queue_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/godist/godist/queue"
)

// Every CI job runs the same code: register (or join) the plan, then take
// units until the run is drained.
func Example_job() {
	ctx := context.Background()
	q, err := queue.Open(ctx, "redis://ci-redis:6379/gh-4711-1", queue.Options{PasswordEnv: "REDIS_PASSWORD"})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	units := []queue.Unit{{ID: "pkg/a:TestSlow"}, {ID: "pkg/b:TestA|TestB"}}
	var fe *queue.FingerprintError
	if _, err := q.Register(ctx, "commit-and-plan-hash", units); errors.As(err, &fe) {
		log.Fatal(err) // this job runs other code than the plan's
	} else if err != nil {
		log.Fatal(err)
	}
	for {
		l, err := q.Lease(ctx, "gw0")
		if errors.Is(err, queue.ErrDrained) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		result := []byte("ran " + l.ID)
		if err := q.Complete(ctx, l.ID, result); errors.Is(err, queue.ErrDuplicate) {
			log.Print(err) // our lease lapsed and another job's result came first
		} else if err != nil {
			log.Fatal(err)
		}
	}
}

// The merging job waits for every result, then reads them in plan order.
func Example_merge() {
	ctx := context.Background()
	q, err := queue.Open(ctx, "redis://ci-redis:6379/gh-4711-1", queue.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	var ie *queue.IncompleteError
	if err := q.Wait(ctx, time.Now().Add(30*time.Minute)); errors.As(err, &ie) {
		log.Print(err) // names the units without a result
	} else if err != nil {
		log.Fatal(err)
	}
	for r, err := range q.Results(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.ID, r.Done, r.By, string(r.Data))
	}
}
