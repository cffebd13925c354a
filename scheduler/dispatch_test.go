package scheduler

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/godist/godist/gotool"
)

func unit(ip string, est time.Duration, tests ...string) *Unit {
	u := &Unit{Pkg: &gotool.Package{ImportPath: ip}, Tests: tests, Estimate: est}
	for range tests {
		u.TestEstimates = append(u.TestEstimates, est/time.Duration(len(tests)))
	}
	return u
}

// recorder is a fake Executor: it runs script(w, u) and records, under a
// lock, which tests ran on which worker and in what order units started.
type recorder struct {
	mu     sync.Mutex
	ran    map[string]int // test name -> times it ran
	starts []string       // first test of each unit, in start order
	script func(w int, u *Unit) ([]string, error)
}

func (r *recorder) Execute(ctx context.Context, w int, u *Unit) ([]string, error) {
	r.mu.Lock()
	if r.ran == nil {
		r.ran = map[string]int{}
	}
	if len(u.Tests) > 0 {
		r.starts = append(r.starts, u.Tests[0])
	}
	r.mu.Unlock()
	var notRun []string
	var err error
	if r.script != nil {
		notRun, err = r.script(w, u)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range u.Tests {
		if !slices.Contains(notRun, n) && (err == nil || notRun != nil) {
			r.ran[n]++
		}
	}
	return notRun, err
}

func TestDispatchLongestFirst(t *testing.T) {
	d := NewDispatcher(DispatchOptions{})
	d.Add(unit("p", 1, "T1"), unit("p", 3, "T3"), unit("p", 2, "T2"), unit("q", 3, "T3b"))
	d.CloseAdd()
	r := &recorder{}
	left, err := d.Run(context.Background(), 1, r)
	if err != nil || len(left) != 0 {
		t.Fatal(err, left)
	}
	if want := []string{"T3", "T3b", "T2", "T1"}; !slices.Equal(r.starts, want) {
		t.Errorf("order %q, want %q", r.starts, want)
	}
}

func TestDispatchAddWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := NewDispatcher(DispatchOptions{})
		r := &recorder{script: func(w int, u *Unit) ([]string, error) {
			time.Sleep(u.Estimate)
			return nil, nil
		}}
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Builds finishing one after another.
			for i, name := range []string{"A", "B", "C"} {
				time.Sleep(10 * time.Millisecond)
				d.Add(unit("p"+name, time.Duration(i+1)*time.Second, "Test"+name+"1", "Test"+name+"2"))
			}
			d.CloseAdd()
		}()
		start := time.Now()
		left, err := d.Run(context.Background(), 2, r)
		<-done
		if err != nil || len(left) != 0 {
			t.Fatal(err, left)
		}
		if len(r.ran) != 6 {
			t.Errorf("ran %v", r.ran)
		}
		// A starts at 10ms on one worker, B at 20ms on the other, C after A.
		if el := time.Since(start); el != 4010*time.Millisecond {
			t.Errorf("makespan %v", el)
		}
	})
}

func TestDispatchRequeueNotRun(t *testing.T) {
	var mu sync.Mutex
	var attempts []int
	r := &recorder{script: func(w int, u *Unit) ([]string, error) {
		mu.Lock()
		attempts = append(attempts, u.Attempt)
		mu.Unlock()
		// TestB crashes the process: TestB fails (reported by the collector),
		// what follows did not run.
		if i := slices.Index(u.Tests, "TestB"); i >= 0 {
			return slices.Clone(u.Tests[i+1:]), nil
		}
		return nil, nil
	}}
	d := NewDispatcher(DispatchOptions{})
	d.Add(unit("p", 4*time.Second, "TestA", "TestB", "TestC", "TestD"))
	d.CloseAdd()
	left, err := d.Run(context.Background(), 3, r)
	if err != nil || len(left) != 0 {
		t.Fatal(err, left)
	}
	for _, n := range []string{"TestA", "TestB", "TestC", "TestD"} {
		if r.ran[n] != 1 {
			t.Errorf("%s ran %d times", n, r.ran[n])
		}
	}
	if !slices.Equal(attempts, []int{0, 1}) {
		t.Errorf("attempts %v", attempts)
	}
}

func TestDispatchGiveUpAfterStalls(t *testing.T) {
	// A unit whose process dies before any test (e.g. in TestMain) every
	// time is given up, not retried for ever.
	var mu sync.Mutex
	calls := 0
	exec := ExecutorFunc(func(ctx context.Context, w int, u *Unit) ([]string, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return u.Tests, nil
	})
	d := NewDispatcher(DispatchOptions{MaxStalls: 2})
	d.Add(unit("p", time.Second, "TestA", "TestB"))
	d.CloseAdd()
	left, err := d.Run(context.Background(), 2, exec)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || len(left) != 1 || !slices.Equal(left[0].Tests, []string{"TestA", "TestB"}) || left[0].Attempt != 2 {
		t.Errorf("calls %d, left %v", calls, left)
	}
}

func TestDispatchWorkerDeath(t *testing.T) {
	errGone := errors.New("connection lost")
	r := &recorder{script: func(w int, u *Unit) ([]string, error) {
		if w == 0 {
			return nil, errGone // worker 0 is dead: all of u goes back
		}
		if w == 1 && u.Tests[0] == "TestB" {
			return []string{"TestB2"}, errGone // died after TestB1
		}
		return nil, nil
	}}
	d := NewDispatcher(DispatchOptions{})
	for _, n := range []string{"TestA", "TestB", "TestC", "TestD"} {
		d.Add(unit("p", time.Second, n+"1", n+"2"))
	}
	d.CloseAdd()
	left, err := d.Run(context.Background(), 3, r)
	if err != nil || len(left) != 0 {
		t.Fatal(err, left)
	}
	for _, n := range []string{"TestA1", "TestA2", "TestB1", "TestB2", "TestC1", "TestC2", "TestD1", "TestD2"} {
		if r.ran[n] != 1 {
			t.Errorf("%s ran %d times", n, r.ran[n])
		}
	}
}

func TestDispatchAllWorkersDead(t *testing.T) {
	errGone := errors.New("connection lost")
	d := NewDispatcher(DispatchOptions{})
	d.Add(unit("p", 2*time.Second, "TestA"), unit("p", time.Second, "TestB"))
	go func() {
		// A build finishing after the workers died must still be reported.
		time.Sleep(5 * time.Millisecond)
		d.Add(unit("q", time.Second, "TestC"))
		d.CloseAdd()
	}()
	left, err := d.Run(context.Background(), 2, ExecutorFunc(func(ctx context.Context, w int, u *Unit) ([]string, error) {
		return nil, errGone
	}))
	if !errors.Is(err, ErrNoWorkers) {
		t.Fatalf("err = %v", err)
	}
	var names []string
	for _, u := range left {
		names = append(names, u.Tests...)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"TestA", "TestB", "TestC"}) {
		t.Errorf("left %q", names)
	}
}

func TestDispatchCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		d := NewDispatcher(DispatchOptions{})
		for _, n := range []string{"TestA", "TestB", "TestC", "TestD"} {
			d.Add(unit("p", time.Second, n))
		}
		exec := ExecutorFunc(func(ctx context.Context, w int, u *Unit) ([]string, error) {
			select {
			case <-time.After(u.Estimate):
				return nil, nil
			case <-ctx.Done(): // failfast: the in-flight unit stops
				return nil, ctx.Err()
			}
		})
		go func() {
			time.Sleep(1500 * time.Millisecond) // TestA done, TestB in flight
			cancel()
		}()
		left, err := d.Run(ctx, 1, exec)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		var names []string
		for _, u := range left {
			names = append(names, u.Tests...)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"TestB", "TestC", "TestD"}) {
			t.Errorf("left %q", names)
		}
		d.CloseAdd()
		if rest := d.Remaining(); len(rest) != 0 {
			t.Errorf("remaining %v", rest)
		}
	})
}

func TestDispatchNoWorkers(t *testing.T) {
	d := NewDispatcher(DispatchOptions{})
	d.Add(unit("p", time.Second, "TestA"))
	d.CloseAdd()
	left, err := d.Run(context.Background(), 0, &recorder{})
	if !errors.Is(err, ErrNoWorkers) || len(left) != 1 {
		t.Errorf("left %v err %v", left, err)
	}
}
