//go:build unix

package workers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/godist/godist/bundle"
	"github.com/godist/godist/gateway"
	"github.com/godist/godist/internal/proc"
)

// helperEnv makes the test binary act as a test process (helperMain).
const helperEnv = "GODIST_WORKERS_HELPER"

func TestMain(m *testing.M) {
	MainIfGuard()
	gateway.MainIfWorker() // the test binary doubles as the popen worker
	if mode := os.Getenv(helperEnv); mode != "" {
		helperMain(mode)
		return
	}
	goleak.VerifyTestMain(m)
}

// helperMain is a test process doing one thing.
func helperMain(mode string) {
	switch name, arg, _ := strings.Cut(mode, ":"); name {
	case "exit":
		n, _ := strconv.Atoi(arg)
		fmt.Println("exiting", n)
		os.Exit(n)
	case "spew": // arg bytes of output
		n, _ := strconv.Atoi(arg)
		line := bytes.Repeat([]byte("x"), 1023)
		line = append(line, '\n')
		for ; n > 0; n -= len(line) {
			os.Stdout.Write(line[:min(n, len(line))])
		}
	case "sleep":
		fmt.Println("sleeping")
		time.Sleep(time.Minute)
	case "ignorequit":
		signal.Ignore(syscall.SIGQUIT)
		fmt.Println("ignoring quit")
		time.Sleep(time.Minute)
	case "holdstdout": // a child keeps stdout open after we exit
		cmd := exec.Command("sleep", "60")
		cmd.Stdout = os.Stdout
		cmd.Start()
		fmt.Println("left a child")
	case "killparent": // a test that kills the process that started it
		fmt.Println("killing", os.Getppid(), "from", os.Getpid())
		syscall.Kill(os.Getppid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "env":
		fmt.Println(os.Getenv("PROBE"), os.Getenv(gateway.WorkerEnv) == "")
	case "pwd":
		wd, _ := os.Getwd()
		fmt.Println(wd)
	}
	os.Exit(0)
}

func self(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func helper(t testing.TB, mode string) Request {
	return Request{Argv: []string{self(t)}, Env: []string{helperEnv + "=" + mode}}
}

// runners gives each test both runners, unguarded and guarded: the
// behaviour must be the same. Each remote has a worker of its own (a
// worker runs one process at a time).
func runners(t *testing.T) map[string]Runner {
	t.Helper()
	return map[string]Runner{"local": Local{}, "remote": openRemote(t),
		"local guarded": guardedRunner{Local{}}, "remote guarded": guardedRunner{openRemote(t)}}
}

// openRemote opens a popen worker for the test.
func openRemote(t *testing.T) *Remote {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gw, err := gateway.Open(ctx, gateway.Spec{Kind: gateway.KindPopen})
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRemote(ctx, gw)
	if err != nil {
		gw.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gw.Exit(ctx)
	})
	return r
}

// guardedRunner runs every request guarded: a guard must change nothing
// a test process's runner reports.
type guardedRunner struct{ Runner }

func (g guardedRunner) Run(ctx context.Context, req Request, out io.Writer) (Result, error) {
	req.Guard = true
	return g.Runner.Run(ctx, req, out)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOutcomes(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var out syncBuf
			res, err := r.Run(ctx, helper(t, "exit:3"), &out)
			if err != nil || res.ExitCode != 3 || res.TimedOut || out.String() != "exiting 3\n" {
				t.Errorf("exit:3: %+v, %v, output %q", res, err, out.String())
			}
			out = syncBuf{}
			req := helper(t, "env")
			req.Env = append(req.Env, "PROBE=seen")
			res, err = r.Run(ctx, req, &out)
			if err != nil || res.ExitCode != 0 || out.String() != "seen true\n" {
				t.Errorf("env: %+v, %v, output %q (want the request's env, no worker marker)", res, err, out.String())
			}
			dir := t.TempDir()
			out = syncBuf{}
			req = helper(t, "pwd")
			req.Dir = dir
			if _, err := r.Run(ctx, req, &out); err != nil || strings.TrimSpace(out.String()) != dir {
				t.Errorf("pwd: %q, %v; want %s", out.String(), err, dir)
			}
			if _, err := r.Run(ctx, Request{Argv: []string{filepath.Join(dir, "missing")}}, &out); err == nil {
				t.Error("a binary that does not exist: no error")
			}
			n := 3<<20 + 17
			var big bytes.Buffer
			if res, err := r.Run(ctx, helper(t, "spew:"+strconv.Itoa(n)), &big); err != nil || res.ExitCode != 0 || big.Len() != n {
				t.Errorf("spew: %+v, %v, %d bytes of %d", res, err, big.Len(), n)
			}
		})
	}
}

// At the deadline a process gets SIGQUIT; one that ignores it gets SIGKILL
// a WaitDelay later; either way the runner reports it timed out.
func TestDeadline(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// A Go program dumps its goroutines on SIGQUIT and exits 2.
			for _, c := range []struct {
				mode, signal string
				exit         int
			}{{"sleep", "", 2}, {"ignorequit", "killed", -1}} {
				req := helper(t, c.mode)
				req.Deadline = 500 * time.Millisecond
				req.WaitDelay = 500 * time.Millisecond
				var out syncBuf
				start := time.Now()
				res, err := r.Run(context.Background(), req, &out)
				if err != nil || !res.TimedOut || res.Signal != c.signal || res.ExitCode != c.exit {
					t.Errorf("%s: %+v, %v; want timed out, %q, exit %d", c.mode, res, err, c.signal, c.exit)
				}
				if c.exit == 2 && !strings.Contains(out.String(), "SIGQUIT") {
					t.Errorf("%s: no goroutine dump in %q", c.mode, out.String())
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("%s: took %v", c.mode, d)
				}
				if !strings.Contains(out.String(), c.mode[:5]) {
					t.Errorf("%s: output %q lost", c.mode, out.String())
				}
			}
		})
	}
}

// A kill message escalates too: a test that ignores the goroutine-dump
// request of --test-timeout still ends.
func TestKillEscalates(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			kill := make(chan proc.Sig, 1)
			req := helper(t, "ignorequit")
			req.QuitGrace = 300 * time.Millisecond
			req.Kill = kill
			out := &syncBuf{}
			go func() {
				for !strings.Contains(out.String(), "ignoring") {
					time.Sleep(10 * time.Millisecond)
				}
				kill <- proc.Quit
			}()
			res, err := r.Run(context.Background(), req, out)
			if err != nil || res.Signal != "killed" || res.TimedOut {
				t.Errorf("%+v, %v; want killed after the ignored quit", res, err)
			}
		})
	}
}

// A child holding stdout after the test process exited: the run ends one
// WaitDelay later and says the I/O was incomplete, as go test does.
func TestIOIncomplete(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := helper(t, "holdstdout")
			req.WaitDelay = 300 * time.Millisecond
			var out syncBuf
			res, err := r.Run(context.Background(), req, &out)
			if err != nil || !res.IOIncomplete || res.ExitCode != 0 {
				t.Errorf("%+v, %v; want exit 0 with I/O incomplete", res, err)
			}
		})
	}
}

// The context ending kills the process, here and on the worker.
func TestCancel(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			out := &syncBuf{}
			go func() {
				for !strings.Contains(out.String(), "sleeping") {
					time.Sleep(10 * time.Millisecond)
				}
				cancel()
			}()
			res, err := r.Run(ctx, helper(t, "sleep"), out)
			if err != nil || res.Signal != "killed" {
				t.Errorf("%+v, %v; want killed", res, err)
			}
		})
	}
}

func TestBundles(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // the worker's bundle store
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gw, err := gateway.Open(ctx, gateway.Spec{Kind: gateway.KindPopen})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	r, err := StartRemote(ctx, gw)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	src := t.TempDir()
	pkg := filepath.Join(src, "pkg")
	os.MkdirAll(filepath.Join(pkg, "testdata"), 0o755)
	os.WriteFile(filepath.Join(pkg, "testdata", "in.txt"), []byte("input"), 0o644)
	bin := filepath.Join(src, "bin")
	os.WriteFile(bin, []byte("#!/bin/sh\ncat testdata/in.txt\n"), 0o755)
	var set bundle.Set
	b, err := set.Get("pkg", bin, pkg)
	if err != nil {
		t.Fatal(err)
	}
	dir, shipped, err := r.Ensure(ctx, b)
	if err != nil || shipped == 0 {
		t.Fatalf("first Ensure: %s, %d bytes, %v", dir, shipped, err)
	}
	if want := filepath.Join(cache, "godist", "bundles", b.Hash); dir != want {
		t.Errorf("bundle at %s, want %s", dir, want)
	}
	var out syncBuf
	res, err := r.Run(ctx, Request{Argv: []string{dir + "/" + bundle.Binary}, Dir: filepath.Join(dir, bundle.PkgDir, b.PkgRel)}, &out)
	if err != nil || res.ExitCode != 0 || out.String() != "input" {
		t.Errorf("running from the bundle: %+v, %v, %q", res, err, out.String())
	}
	// A second runner on the same machine finds it there.
	r2, err := StartRemote(ctx, gw)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if dir2, shipped, err := r2.Ensure(ctx, b); err != nil || shipped != 0 || dir2 != dir {
		t.Errorf("second Ensure: %s, %d bytes, %v; want %s, nothing shipped", dir2, shipped, err, dir)
	}
	// A file the controller cannot read aborts the transfer: nothing half
	// stored.
	os.WriteFile(filepath.Join(pkg, "new.go"), []byte("package pkg"), 0o644)
	var set2 bundle.Set
	b2, err := set2.Get("pkg", bin, pkg)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(pkg, "new.go"))
	if _, _, err := r2.Ensure(ctx, b2); err == nil {
		t.Error("a vanished file: no error")
	}
	if _, err := os.Stat(filepath.Join(cache, "godist", "bundles", b2.Hash)); err == nil {
		t.Error("a half bundle was stored")
	}
	// The runner still works after that.
	out = syncBuf{}
	if res, err := r2.Run(ctx, helper(t, "exit:0"), &out); err != nil || res.ExitCode != 0 {
		t.Errorf("after an aborted bundle: %+v, %v", res, err)
	}
}

// A process that ended before a kill message arrived: the kill must not
// reach the next process.
func TestStaleKill(t *testing.T) {
	r := runners(t)["remote"]
	kill := make(chan proc.Sig, 1)
	req := helper(t, "exit:0")
	req.Kill = kill
	if _, err := r.Run(context.Background(), req, &syncBuf{}); err != nil {
		t.Fatal(err)
	}
	rr := r.(*Remote)
	rr.ch.Send(context.Background(), wireRequest{Op: opKill, Sig: "KILL"})
	res, err := r.Run(context.Background(), helper(t, "exit:4"), &syncBuf{})
	if err != nil || res.ExitCode != 4 {
		t.Errorf("%+v, %v: a stale kill reached the next process", res, err)
	}
}

// A test that kills the process that started it kills only its guard:
// the runner (a worker, the controller) lives on and says so, with the
// output the test had; the test binary dies with its guard.
func TestGuardParentKilled(t *testing.T) {
	for name, r := range runners(t) {
		if !strings.HasSuffix(name, "guarded") {
			continue // it would kill the worker, or this test binary
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out syncBuf
			res, err := r.Run(context.Background(), helper(t, "killparent"), &out)
			if err != nil || !res.ParentKilled || res.Signal != "killed" {
				t.Errorf("%+v, %v; want the parent killed", res, err)
			}
			var parent, pid int
			if _, err := fmt.Sscanf(out.String(), "killing %d from %d", &parent, &pid); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if parent == os.Getpid() {
				t.Fatalf("the test process's parent was the runner itself")
			}
			for deadline := time.Now().Add(10 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("test process %d still running after its guard was killed", pid)
				}
			}
		})
	}
}

// alive reports whether process pid runs (a zombie does not).
func alive(pid int) bool {
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		_, rest, _ := strings.Cut(string(stat), ") ")
		return !strings.HasPrefix(rest, "Z")
	}
	return syscall.Kill(pid, 0) == nil
}
