//go:build unix

package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// otherPlatformWorker is a copy of the test binary with a trailer: another
// hash (so the remote cache tells which one was shipped), and it still runs
// here, standing in for a worker built for the host's platform.
func otherPlatformWorker(t testing.TB) workerFile {
	t.Helper()
	bin, err := workerBinary(Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin.path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "godist-for-the-host")
	if err := os.WriteFile(path, append(data, "\ngodist test: the host's platform\n"...), 0o755); err != nil {
		t.Fatal(err)
	}
	wf, err := hashWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

// workerForCalls records Options.WorkerFor's calls and answers path, err.
type workerForCalls struct {
	mu    sync.Mutex
	calls []string
}

func (w *workerForCalls) fn(path string, err error) func(ctx context.Context, goos, goarch string) (string, error) {
	return func(ctx context.Context, goos, goarch string) (string, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls = append(w.calls, goos+"/"+goarch)
		return path, err
	}
}

func (w *workerForCalls) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

func uname(t testing.TB, flag string) string {
	t.Helper()
	out, err := exec.Command("uname", flag).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// A host of another platform (here: this binary claims to be darwin/arm64)
// gets the binary Options.WorkerFor gives for the host's GOOS/GOARCH:
// asked for once, shipped once for gateways opened together, and a later
// gateway to that host goes straight to it. Not parallel: it changes
// localPlatform.
func TestSSHOtherPlatform(t *testing.T) {
	s := startSSHD(t)
	other := otherPlatformWorker(t)
	saved := localPlatform
	localPlatform = "darwin/arm64"
	t.Cleanup(func() { localPlatform = saved })
	var wf workerForCalls
	opts := Options{WorkerFor: wf.fn(other.path, nil)}

	sps, err := ParseSpec("3*" + s.Spec(""))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	gr, err := NewGroupWith(ctxT(t), sps, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 ssh gateways to a host of another platform ready in %v", time.Since(start).Round(time.Millisecond))
	var total int64
	var shippers int
	pids := map[int]bool{}
	for _, g := range gr.Gateways() {
		total += g.BytesShipped()
		if g.BytesShipped() > 0 {
			shippers++
		}
		in, err := g.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if in.GOOS != runtime.GOOS || in.GOARCH != runtime.GOARCH {
			t.Errorf("worker on %s/%s", in.GOOS, in.GOARCH)
		}
		pids[in.PID] = true
	}
	if total != other.size || shippers != 1 {
		t.Errorf("group shipped %d bytes from %d gateways, want %d (the WorkerFor binary) from one", total, shippers, other.size)
	}
	want := []string{runtime.GOOS + "/" + runtime.GOARCH}
	if got := wf.list(); !slices.Equal(got, want) {
		t.Errorf("WorkerFor called for %q, want %q", got, want)
	}
	mc, err := gr.RemoteExec(ctxT(t), `channel.Send(6 * 7)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range mc.Channels() {
		if v, err := ch.Receive(ctxT(t)); err != nil || v != int64(42) {
			t.Errorf("remote exec: %v, %v", v, err)
		}
	}
	exitReaped(t, gr, pids)

	// The host's binary is remembered: no connection offering ours, no
	// second WorkerFor call (even without one), nothing shipped.
	local, err := workerBinary(Options{})
	if err != nil {
		t.Fatal(err)
	}
	host := sshHostFor(parseOne(t, s.Spec("")), local)
	host.mu.Lock()
	remembered := host.other != nil && host.other.sum == other.sum
	host.mu.Unlock()
	if !remembered {
		t.Errorf("host record does not hold the WorkerFor binary")
	}
	start = time.Now()
	g, err := OpenWith(ctxT(t), parseOne(t, s.Spec("")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a later gateway ready in %v", time.Since(start).Round(time.Millisecond))
	if g.BytesShipped() != 0 {
		t.Errorf("later gateway shipped %d bytes", g.BytesShipped())
	}
	if err := g.Exit(ctxT(t)); err != nil {
		t.Errorf("exit: %v", err)
	}
	if got := cachedFiles(t, s); len(got) != 1 || got[0] != "godist-"+other.sum {
		t.Errorf("remote cache holds %q, want only godist-%s (the WorkerFor binary)", got, other.sum)
	}
}

// Without a WorkerFor, or when it fails, a host of another platform is an
// ErrPlatform naming the host, its uname, our platform and WorkerFor's
// error; nothing is shipped, and a failure is not remembered. Not
// parallel: it changes localPlatform.
func TestSSHOtherPlatformErrors(t *testing.T) {
	saved := localPlatform
	localPlatform = "darwin/arm64"
	t.Cleanup(func() { localPlatform = saved })
	remote := fmt.Sprintf("remote is %s %s (%s/%s), this godist is darwin/arm64", uname(t, "-s"), uname(t, "-m"), runtime.GOOS, runtime.GOARCH)
	errNoBuild := errors.New("no build for you")
	for _, tc := range []struct {
		name      string
		workerFor func(*workerForCalls) func(context.Context, string, string) (string, error)
		want      []string
		wantErr   error
		calls     int
	}{
		{"no WorkerFor", func(*workerForCalls) func(context.Context, string, string) (string, error) { return nil },
			[]string{remote, "no worker binary for " + runtime.GOOS + "/" + runtime.GOARCH}, nil, 0},
		{"WorkerFor fails", func(w *workerForCalls) func(context.Context, string, string) (string, error) {
			return w.fn("", errNoBuild)
		},
			[]string{remote, "worker binary for " + runtime.GOOS + "/" + runtime.GOARCH + ": no build for you"}, errNoBuild, 2},
		{"WorkerFor names no file", func(w *workerForCalls) func(context.Context, string, string) (string, error) {
			return w.fn("/nonexistent/godist", nil)
		}, []string{remote, "/nonexistent/godist"}, os.ErrNotExist, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSSHD(t)
			var wf workerForCalls
			opts := Options{WorkerFor: tc.workerFor(&wf)}
			for range 2 {
				g, err := OpenWith(ctxT(t), parseOne(t, s.Spec("")), opts)
				if err == nil {
					g.Close()
					t.Fatal("open succeeded")
				}
				t.Log(err)
				var se *SSHError
				if !errors.As(err, &se) || !errors.Is(err, ErrPlatform) {
					t.Errorf("error %v is not an *SSHError wrapping ErrPlatform", err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v does not wrap %v", err, tc.wantErr)
				}
				for _, w := range append(tc.want, fmt.Sprintf("ssh 127.0.0.1:%d: ", s.Port)) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
			}
			if got := wf.list(); len(got) != tc.calls {
				t.Errorf("WorkerFor called %d times (%q), want %d", len(got), got, tc.calls)
			}
			if ents, _ := os.ReadDir(filepath.Join(s.Cache, "godist", "bin")); len(ents) != 0 {
				t.Errorf("remote cache holds %v", ents)
			}
		})
	}
}

// A host whose uname says another platform (a uname script first in
// sshd's PATH): WorkerFor is asked for the GOOS/GOARCH that uname maps to,
// and the bootstrap, told the binary is for that platform, accepts it. An
// unknown uname is an ErrPlatform naming it.
func TestSSHUnameMapping(t *testing.T) {
	t.Parallel()
	needSSH(t)
	for _, tc := range []struct {
		sys, machine string
		want         string // WorkerFor's platform; "" for an error
	}{
		{"Linux", "aarch64", "linux/arm64"},
		{"FreeBSD", "amd64", "freebsd/amd64"},
		{"Plan9", "weird", ""},
	} {
		t.Run(tc.sys+"-"+tc.machine, func(t *testing.T) {
			t.Parallel()
			fake := t.TempDir()
			writeFile(t, filepath.Join(fake, "uname"), fmt.Sprintf("#!/bin/sh\ncase \"$1\" in -m) echo %s;; *) echo %s;; esac\n", tc.machine, tc.sys))
			if err := os.Chmod(filepath.Join(fake, "uname"), 0o755); err != nil {
				t.Fatal(err)
			}
			s := startSSHD(t, "SetEnv PATH="+fake+":/usr/local/bin:/usr/bin:/bin")
			other := otherPlatformWorker(t)
			var wf workerForCalls
			g, err := OpenWith(ctxT(t), parseOne(t, s.Spec("")), Options{WorkerFor: wf.fn(other.path, nil)})
			if tc.want == "" {
				if err == nil {
					g.Close()
					t.Fatal("open succeeded")
				}
				t.Log(err)
				want := fmt.Sprintf("remote is %s %s, this godist is %s, and uname %q %q is no GOOS/GOARCH known to godist", tc.sys, tc.machine, localPlatform, tc.sys, tc.machine)
				if !errors.Is(err, ErrPlatform) || !strings.Contains(err.Error(), want) {
					t.Errorf("open: %v, want ErrPlatform with %q", err, want)
				}
				if got := wf.list(); len(got) != 0 {
					t.Errorf("WorkerFor called for %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if got := wf.list(); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("WorkerFor called for %q, want %q", got, tc.want)
			}
			if g.BytesShipped() != other.size {
				t.Errorf("shipped %d bytes, want %d", g.BytesShipped(), other.size)
			}
			if err := g.RemoteExecSync(ctxT(t), `channel.Send(1)`); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestUnamePlatform(t *testing.T) {
	for _, tc := range []struct{ sys, machine, want string }{
		{"Linux", "x86_64", "linux/amd64"},
		{"Linux", "aarch64", "linux/arm64"},
		{"Linux", "armv7l", "linux/arm"},
		{"Linux", "i686", "linux/386"},
		{"Linux", "ppc64le", "linux/ppc64le"},
		{"Linux", "riscv64", "linux/riscv64"},
		{"Linux", "loongarch64", "linux/loong64"},
		{"Darwin", "arm64", "darwin/arm64"},
		{"Darwin", "x86_64", "darwin/amd64"},
		{"FreeBSD", "amd64", "freebsd/amd64"},
		{"OpenBSD", "arm64", "openbsd/arm64"},
		{"SunOS", "i86pc", "solaris/amd64"},
		{"Linux", "mips64", ""}, // either endianness
		{"Plan9", "x86_64", ""},
		{"Linux", "", ""},
	} {
		goos, goarch, ok := unamePlatform(tc.sys, tc.machine)
		got := ""
		if ok {
			got = goos + "/" + goarch
		}
		if got != tc.want {
			t.Errorf("unamePlatform(%q, %q) = %q, want %q", tc.sys, tc.machine, got, tc.want)
		}
		// The bootstrap script for a binary of that platform accepts the host.
		if ok && !slices.Contains(strings.Split(platformPattern(got), "|"), tc.sys+"/"+tc.machine) {
			t.Errorf("platformPattern(%q) = %q does not match %s/%s", got, platformPattern(got), tc.sys, tc.machine)
		}
	}
}
