//go:build linux

package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// slowWant is go test's outcome for the basic fixture's ./slow/: 16
// passing tests.
func slowWant() map[string][]string {
	want := map[string][]string{"example.com/fixture/basic/slow ": {"pass"}}
	for _, name := range []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16"} {
		want["example.com/fixture/basic/slow TestSlow"+name] = []string{"pass"}
	}
	return want
}

// checkLostToKeepalive checks a run that lost a worker to its keepalive:
// it ended, passed, reported each test once, and said why it lost one.
func checkLostToKeepalive(t *testing.T, bg *background) {
	t.Helper()
	cmd, done, stdout, stderr := bg.cmd, bg.done, &bg.stdout, &bg.stderr
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("godist did not end 90 s after its worker went silent\nstderr:\n%s", stderr.String())
	}
	if got := cmd.ProcessState.ExitCode(); got != 0 {
		t.Errorf("exit code %d, want 0\nstderr:\n%s", got, stderr.String())
	}
	if !strings.Contains(stderr.String(), "lost") || !strings.Contains(stderr.String(), "keepalive") {
		t.Errorf("stderr does not say a worker was lost to its keepalive:\n%s", stderr.String())
	}
	diffOutcomes(t, slowWant(), outcomes(t, stdout.String()))
	for key, n := range terminalCounts(t, stdout.String()) {
		if n != 1 {
			t.Errorf("%s reported %d times", key, n)
		}
	}
}

// TestFrozenWorkerIsLost: a popen worker stopped with SIGSTOP in the middle
// of a run answers no ping; after --keepalive it is taken for lost, killed,
// replaced, and its tests run elsewhere. The run ends green.
func TestFrozenWorkerIsLost(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run with a frozen worker")
	}
	t.Parallel()
	dir := fixture(t, "basic")
	bg := startBackground(t, dir, "--history", filepath.Join(t.TempDir(), "h.json"),
		"-json", "-n", "2", "--keepalive", "2s", "./slow/")
	cmd, done, stderr := bg.cmd, bg.done, &bg.stderr

	var frozen int
	t.Cleanup(func() {
		if frozen != 0 {
			syscall.Kill(frozen, syscall.SIGCONT)
		}
	})
	// Freeze a worker once one is running a test: its test process is a
	// child of its own.
	deadline := time.Now().Add(60 * time.Second)
	for frozen == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		for _, pid := range children(cmd.Process.Pid) {
			if isWorker(pid) && len(children(pid)) > 0 {
				if syscall.Kill(pid, syscall.SIGSTOP) == nil {
					frozen = pid
				}
				break
			}
		}
	}
	if frozen == 0 {
		cmd.Process.Kill()
		<-done
		t.Fatalf("no worker ran a test within 60 s\nstderr:\n%s", stderr.String())
	}
	checkLostToKeepalive(t, bg)
	// The frozen worker was killed and reaped, not left stopped.
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(frozen))); err == nil {
		if stat, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(frozen), "stat")); !bytes.Contains(stat, []byte(" Z ")) {
			t.Errorf("the frozen worker %d is still there after the run: %s", frozen, stat)
		}
	}
}

// TestDroppedLinkIsLost: a socket worker whose link stops carrying bytes
// (a proxy in between goes silent, connections left open: a cable pulled,
// a NAT entry dropped) is taken for lost after --keepalive; a popen worker
// runs its tests and the run ends green.
func TestDroppedLinkIsLost(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run over a link that goes silent")
	}
	t.Parallel()
	srv := exec.Command(godist(t), "socketserver", "--listen", "127.0.0.1:0")
	srv.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	addr, _ := startServer(t, srv)
	p := newSilencingProxy(t, addr)

	dir := fixture(t, "basic")
	bg := startBackground(t, dir, "--history", filepath.Join(t.TempDir(), "h.json"),
		"-json", "-n", "1", "--tx", "socket="+p.addr(), "--keepalive", "2s", "./slow/")
	// Go silent once the socket worker runs tests: a test's events have
	// come back through the proxy.
	deadline := time.Now().Add(60 * time.Second)
	for p.downBytes() < 1<<10 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.silence()
	t.Logf("silenced after %d bytes down", p.downBytes())
	checkLostToKeepalive(t, bg)
}

// silencingProxy forwards TCP connections to a server until silence: then
// it stops forwarding in both directions and keeps the connections open.
type silencingProxy struct {
	ln     net.Listener
	down   atomic.Int64 // bytes from the server
	silent atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	closed chan struct{} // closed by the test's cleanup
}

func newSilencingProxy(t *testing.T, target string) *silencingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silencingProxy{ln: ln, closed: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		close(p.closed)
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			wg.Go(func() { p.pipe(s, c, nil) })
			wg.Go(func() { p.pipe(c, s, &p.down) })
		}
	})
	return p
}

// pipe copies src to dst until silence; from then on it forwards nothing
// and reads no more, so src's bytes wait in the kernel's buffers, until
// the test's cleanup closes the connections.
func (p *silencingProxy) pipe(dst, src net.Conn, count *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.silent.Load() {
			<-p.closed
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			if count != nil {
				count.Add(int64(n))
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *silencingProxy) addr() string     { return p.ln.Addr().String() }
func (p *silencingProxy) downBytes() int64 { return p.down.Load() }
func (p *silencingProxy) silence()         { p.silent.Store(true) }
