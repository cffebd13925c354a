//go:build unix

package queue

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godist/godist/internal/redistest"
)

// job is a helper process (helperMain) and the lines it printed.
type job struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // closed at EOF

	mu  sync.Mutex
	all []string
}

// startJob runs the test binary as one CI job of run on s. The process is
// killed and reaped when the test ends.
func startJob(t *testing.T, s *redistest.Server, run, name string, units, unitMS, gateAt int) *job {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"GODIST_QUEUE_HELPER=1",
		"GORACE=atexit_sleep_ms=0",
		"QUEUE_URL="+s.URL(run),
		"QUEUE_JOB="+name,
		"QUEUE_FINGERPRINT=fp-1",
		"QUEUE_LEASE_MS="+strconv.Itoa(int(testLease/time.Millisecond)),
		"QUEUE_UNITS="+strconv.Itoa(units),
		"QUEUE_UNIT_MS="+strconv.Itoa(unitMS),
		"QUEUE_GATE_AT="+strconv.Itoa(gateAt),
	)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	j := &job{name: name, cmd: cmd, stdin: stdin, lines: make(chan string, 1000)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(j.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			j.mu.Lock()
			j.all = append(j.all, sc.Text())
			j.mu.Unlock()
			j.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		stdin.Close()
		<-read
		cmd.Wait()
	})
	return j
}

// await returns the first line starting with prefix, failing the test
// after 20 s or at EOF.
func (j *job) await(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-j.lines:
			if !ok {
				t.Fatalf("job %s ended without printing %q: %q", j.name, prefix, j.output())
			}
			if strings.HasPrefix(line, "error") {
				t.Fatalf("job %s: %s", j.name, line)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timeout:
			t.Fatalf("job %s did not print %q in 20s: %q", j.name, prefix, j.output())
		}
	}
}

// wait waits for the job to end and checks it exited 0 after "drained".
func (j *job) wait(t *testing.T) {
	t.Helper()
	j.await(t, "drained")
	for range j.lines {
	}
	if err := j.cmd.Wait(); err != nil {
		t.Errorf("job %s: %v: %q", j.name, err, j.output())
	}
}

func (j *job) output() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.all...)
}

// with returns the words of the job's lines starting with verb.
func (j *job) with(verb string) [][]string {
	var got [][]string
	for _, line := range j.output() {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == verb {
			got = append(got, f[1:])
		}
	}
	return got
}

// checkOnce checks that across all jobs every unit was reported done
// exactly once, and that the run's result of each unit came from the job
// that reported it.
func checkOnce(t *testing.T, q *Queue, units []Unit, jobs ...*job) {
	t.Helper()
	ctx := testCtx(t)
	if err := q.Wait(ctx, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	doneBy := map[string][]string{}
	for _, j := range jobs {
		for _, f := range j.with("done") {
			doneBy[f[0]] = append(doneBy[f[0]], j.name)
		}
	}
	results := checkResults(t, ctx, q, units)
	for _, u := range units {
		by := doneBy[u.ID]
		if len(by) != 1 {
			t.Errorf("unit %s reported done by %v, want exactly one job", u.ID, by)
			continue
		}
		if want := by[0] + "/gw0"; results[u.ID].By != want {
			t.Errorf("unit %s: result by %s, but %s reported it", u.ID, results[u.ID].By, want)
		}
	}
}

// TestKilledJob: three jobs (processes) share a run; one is SIGKILLed
// while it holds a lease; a fourth joins late. Every unit is completed
// exactly once, the killed job's unit by another job after its lease
// lapsed.
func TestKilledJob(t *testing.T) {
	s := redistest.Start(t)
	const n, unitMS = 120, 15
	units := plan(n, unitMS)
	victim := startJob(t, s, "kill", "victim", n, unitMS, 5)
	a := startJob(t, s, "kill", "a", n, unitMS, 0)
	b := startJob(t, s, "kill", "b", n, unitMS, 0)
	held := strings.Fields(victim.await(t, "gate "))[1]
	victim.cmd.Process.Kill()
	for range victim.lines { // to EOF, then reap
	}
	victim.cmd.Wait()
	late := startJob(t, s, "kill", "late", n, unitMS, 0)
	if line := late.await(t, "registered "); line != "registered false" {
		t.Errorf("late job: %q, want it to join", line)
	}
	for _, j := range []*job{a, b, late} {
		j.wait(t)
	}
	q := open(t, s, "kill", testOptions("merge"))
	checkOnce(t, q, units, victim, a, b, late)
	for _, j := range []*job{a, b, late} {
		if d := j.with("dup"); len(d) > 0 {
			t.Errorf("job %s had duplicates %v", j.name, d)
		}
	}
	t.Logf("units done: victim %d, a %d, b %d, late %d", len(victim.with("done")), len(a.with("done")), len(b.with("done")), len(late.with("done")))
	if len(late.with("done")) == 0 {
		t.Errorf("the late job completed nothing: %q", late.output())
	}
	if len(victim.with("done")) != 4 {
		t.Errorf("victim completed %v before its gate, want 4", victim.with("done"))
	}
	for r, err := range q.Results(testCtx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == held {
			t.Logf("the killed job's unit %s was completed by %s, attempt %d", held, r.By, r.Attempt)
		}
		if r.ID == held && (r.Attempt != 2 || strings.HasPrefix(r.By, "victim/")) {
			t.Errorf("the killed job's unit %s: %+v, want attempt 2 by another job", held, r)
		}
	}
	p, err := q.Progress(testCtx(t))
	if err != nil || p.Reclaimed != 1 || len(p.Jobs) != 4 {
		t.Errorf("progress %+v, %v; want 1 reclaimed, 4 jobs", p, err)
	}
}

// TestStoppedJob: a job SIGSTOPped while it holds a lease stops renewing
// it; another job takes the unit over after the lease timeout and
// completes the run. SIGCONTed, the stopped job reports its unit late:
// the result is dropped as a duplicate, and every unit has one result.
func TestStoppedJob(t *testing.T) {
	s := redistest.Start(t)
	const n, unitMS = 30, 5
	units := plan(n, unitMS)
	sleeper := startJob(t, s, "stop", "sleeper", n, unitMS, 3)
	a := startJob(t, s, "stop", "a", n, unitMS, 0)
	held := strings.Fields(sleeper.await(t, "gate "))[1]
	if err := sleeper.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	q := open(t, s, "stop", testOptions("merge"))
	ctx := testCtx(t)
	if err := q.Wait(ctx, time.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(stoppedAt); d < testLease/2 {
		t.Errorf("the run completed %v after the stop, before the lease (%v) could lapse", d, testLease)
	}
	a.wait(t)
	if err := sleeper.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(sleeper.stdin, "go")
	if got, want := sleeper.await(t, "dup "), fmt.Sprintf("dup %s a/gw0", held); got != want {
		t.Errorf("stopped job printed %q, want %q", got, want)
	}
	sleeper.wait(t)
	checkOnce(t, q, units, sleeper, a)
	for r, err := range q.Results(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == held && (r.By != "a/gw0" || r.Attempt != 2) {
			t.Errorf("the stopped job's unit: %+v, want a's result from attempt 2", r)
		}
	}
}
