//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godist/godist/internal/redistest"
	"github.com/godist/godist/queue"
)

// TestQueueJobsDieStallAndJoin runs one suite as a --queue run of several
// jobs on a real redis-server while they are attacked: one is SIGKILLed,
// one SIGSTOPped past its lease (and woken later, when its units ran
// elsewhere), one joins late. `godist merge -json --queue` still gives
// go test's outcomes, each test exactly once, and go test's exit status.
func TestQueueJobsDieStallAndJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end queue run")
	}
	srv := redistest.Start(t)
	dir := fixture(t, "basic")
	pkgs := []string{"./many/", "./slow/", "./names/", "./pass/", "./fail/", "./skip/", "./nottests/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, pkgs...)...)
	url := "redis://" + srv.Addr + "/attacked"
	job := func() *background {
		args := []string{"--history", filepath.Join(t.TempDir(), "h.json"), "-json", "-n", "2",
			"--queue", url, "--queue-lease", "1s"}
		return startBackground(t, dir, append(args, pkgs...)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	q, err := queue.Open(ctx, url, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	progress := func() queue.Progress {
		t.Helper()
		p, err := q.Progress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	killed, stalled, steady := job(), job(), job()
	// Once the jobs are at work, hit two of them while they hold leases.
	for p := progress(); p.Done < 4 || p.Leased < 3; p = progress() {
		if ctx.Err() != nil {
			t.Fatalf("the jobs never got going: %+v\n%s", p, steady.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed.cmd.Process.Signal(syscall.SIGKILL)
	stalled.cmd.Process.Signal(syscall.SIGSTOP)
	time.Sleep(2500 * time.Millisecond) // past the 1 s lease
	late := job()
	time.Sleep(time.Second)
	stalled.cmd.Process.Signal(syscall.SIGCONT)

	<-killed.done
	for _, j := range []*background{stalled, steady, late} {
		select {
		case err := <-j.done:
			if code := exitCode(err); code != 0 && code != 1 {
				t.Errorf("a job exited %d:\n%s", code, j.stderr.String())
			}
		case <-ctx.Done():
			t.Fatalf("a job never ended:\n%s", j.stderr.String())
		}
	}
	p := progress()
	if !p.Complete() || p.Reclaimed < 1 {
		t.Errorf("queue at the end: %+v; want complete, with the killed and stalled jobs' leases taken over", p)
	}
	if !strings.Contains(late.stderr.String(), "joined the registered plan") {
		t.Errorf("the late job did not join:\n%s", late.stderr.String())
	}

	got := runIn(t, dir, nil, godist(t), "merge", "-json", "--queue", url, "--wait", "30s")
	if got.code != want.code {
		t.Errorf("merge exited %d, go test %d\n%s", got.code, want.code, got.stderr)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
	for key, n := range terminalCounts(t, got.stdout) {
		if n != 1 {
			t.Errorf("%s: %d results in the merged run, want 1", key, n)
		}
	}
	text := runIn(t, dir, nil, godist(t), "merge", "--queue", url)
	if !strings.Contains(text.stdout, "?   \texample.com/fixture/basic/nottests\t[no test files]") ||
		!strings.Contains(text.stdout, "FAIL\texample.com/fixture/basic/fail\t") {
		t.Errorf("merged text:\n%s", text.stdout)
	}
}

// A job whose code differs from the plan's refuses to take anything, and
// says why; the run it would have joined is untouched.
func TestQueueFingerprintMismatch(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end queue run")
	}
	srv := redistest.Start(t)
	url := "redis://" + srv.Addr + "/changed"
	orig := copyModule(t, fixture(t, "basic"), "pass")
	changed := copyModule(t, fixture(t, "basic"), "pass")
	f := filepath.Join(changed, "pass", "pass_extra_test.go")
	if err := os.WriteFile(f, []byte("package pass\n\nimport \"testing\"\n\nfunc TestExtra(t *testing.T) {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--history", filepath.Join(t.TempDir(), "h.json"), "-n", "1", "--queue", url, "./pass/"}
	first := runIn(t, orig, nil, godist(t), args...)
	if first.code != 0 {
		t.Fatalf("first job exited %d\n%s", first.code, first.stderr)
	}
	other := runIn(t, changed, nil, godist(t), args...)
	if other.code != 1 || !strings.Contains(other.stderr, "differ from those of the job that registered") {
		t.Errorf("a job with other code: exit %d\n%s", other.code, other.stderr)
	}
	if strings.Contains(other.stdout, "ok") || strings.Contains(other.stdout, "TestExtra") {
		t.Errorf("a refused job ran tests:\n%s", other.stdout)
	}
	merged := runIn(t, orig, nil, godist(t), "merge", "-json", "--queue", url)
	if merged.code != 0 || strings.Contains(merged.stdout, "TestExtra") {
		t.Errorf("merge after the refusal: exit %d\n%s\n%s", merged.code, merged.stdout, merged.stderr)
	}
	bad := runIn(t, orig, nil, godist(t), "--queue", "http://"+srv.Addr+"/x", "./pass/")
	if bad.code != 2 || !strings.Contains(bad.stderr, "--queue") {
		t.Errorf("a bad queue URL: exit %d\n%s", bad.code, bad.stderr)
	}
}

// copyModule copies the module at src with only its package dirs (and
// go.mod) into a new directory.
func copyModule(t *testing.T, src string, dirs ...string) string {
	t.Helper()
	dst := t.TempDir()
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(src, "go.mod"), filepath.Join(dst, "go.mod"))
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dst, d), 0o755); err != nil {
			t.Fatal(err)
		}
		ents, err := os.ReadDir(filepath.Join(src, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				copyFile(filepath.Join(src, d, e.Name()), filepath.Join(dst, d, e.Name()))
			}
		}
	}
	return dst
}

// exitCode is the exit status in cmd.Wait's error: 0 for nil, -1 for a
// process that did not exit (a signal).
func exitCode(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
