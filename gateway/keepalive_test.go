//go:build unix

package gateway

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

// testKeepalive is short, with room for a loaded machine.
var testKeepalive = channel.Keepalive{Interval: 100 * time.Millisecond, Timeout: time.Second}

// TestKeepaliveFrozenWorker: a process worker stopped with SIGSTOP is
// lost within the keepalive timeout: the gateway ends with a
// *channel.KeepaliveError, an execution blocked on it fails with it, and
// the worker is killed and reaped.
func TestKeepaliveFrozenWorker(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"popen", "exec=exec '" + exe + "' -test.run=^$"} {
		name, _, _ := strings.Cut(spec, "=")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, err := OpenWith(ctxT(t), parseOne(t, spec), Options{Keepalive: testKeepalive})
			if err != nil {
				t.Fatal(err)
			}
			info, err := g.Info(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if info.PID != g.cmd.Process.Pid {
				t.Fatalf("worker pid %d, process %d", info.PID, g.cmd.Process.Pid)
			}
			t.Cleanup(func() {
				syscall.Kill(info.PID, syscall.SIGCONT) // ESRCH once reaped
				g.Close()
				if g.cmd.ProcessState == nil {
					t.Error("worker not reaped")
				}
			})
			ch, err := g.RemoteExec(ctxT(t), `channel.Receive()`)
			if err != nil {
				t.Fatal(err)
			}
			// An idle gateway lives through many intervals.
			time.Sleep(5 * testKeepalive.Interval)
			if err := g.Err(); err != nil {
				t.Fatalf("idle gateway ended: %v", err)
			}
			if err := syscall.Kill(info.PID, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			stopped := time.Now()
			select {
			case <-g.Done():
			case <-time.After(testKeepalive.Timeout + 10*time.Second):
				t.Fatalf("gateway alive %v after SIGSTOP", time.Since(stopped))
			}
			t.Logf("lost %v after SIGSTOP", time.Since(stopped))
			if d := time.Since(stopped); d < testKeepalive.Timeout-testKeepalive.Interval {
				t.Errorf("lost after %v, before the timeout %v", d, testKeepalive.Timeout)
			}
			var ke *channel.KeepaliveError
			if err := g.Err(); !errors.As(err, &ke) {
				t.Fatalf("gateway error %v, want *channel.KeepaliveError", err)
			}
			if _, err := ch.Receive(ctxT(t)); !errors.As(err, &ke) {
				t.Errorf("execution's receive: %v, want *channel.KeepaliveError", err)
			}
			// Reaped already: Done of a process gateway follows the reaper.
			ws, ok := g.cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Errorf("worker ended %v, want killed", g.cmd.ProcessState)
			}
			if err := syscall.Kill(info.PID, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("worker pid %d still exists: %v", info.PID, err)
			}
		})
	}
}

// linkProxy forwards one TCP connection at a time to addr until freeze;
// then it forwards nothing more and closes nothing, like a link that went
// down silently.
type linkProxy struct {
	ln     net.Listener
	frozen atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startLinkProxy(t testing.TB, addr string) *linkProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &linkProxy{ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			p.wg.Go(func() { p.pipe(b, c) })
			p.wg.Go(func() { p.pipe(c, b) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *linkProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if !p.frozen.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

// TestKeepaliveDroppedLink: a socket gateway whose link stops forwarding
// ends on both sides: the controller with a *channel.KeepaliveError, and
// the socket server drops the connection, logging why.
func TestKeepaliveDroppedLink(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- ServeListener(ctx, ln, ServeOptions{NoProcessSetup: true, Logf: logs.logf, Keepalive: testKeepalive})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve listener: %v", err)
		}
	})
	p := startLinkProxy(t, ln.Addr().String())
	g, err := OpenWith(ctxT(t), parseOne(t, "socket="+p.ln.Addr().String()), Options{Keepalive: testKeepalive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if _, err := g.Info(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	p.frozen.Store(true)
	dropped := time.Now()
	select {
	case <-g.Done():
	case <-time.After(testKeepalive.Timeout + 10*time.Second):
		t.Fatalf("gateway alive %v after the link dropped", time.Since(dropped))
	}
	t.Logf("lost %v after the link dropped", time.Since(dropped))
	var ke *channel.KeepaliveError
	if err := g.Err(); !errors.As(err, &ke) {
		t.Fatalf("gateway error %v, want *channel.KeepaliveError", err)
	}
	if _, err := g.Info(ctxT(t)); !errors.As(err, &ke) {
		t.Errorf("info on a lost gateway: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.text(), "keepalive") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.text(), "keepalive") {
		t.Errorf("server log says nothing of the keepalive:\n%s", logs.text())
	}
	t.Log(logs.text())
}

// TestKeepaliveOptions: a negative Interval turns the controller's keepalive
// off, the zero value gives DefaultKeepalive.
func TestKeepaliveOptions(t *testing.T) {
	if k := keepalive(channel.Keepalive{Interval: -1}, DefaultKeepalive); k.On() {
		t.Errorf("negative interval: %+v", k)
	}
	if k := keepalive(channel.Keepalive{}, DefaultKeepalive); k != DefaultKeepalive {
		t.Errorf("zero: %+v", k)
	}
	if k := keepalive(testKeepalive, DefaultKeepalive); k != testKeepalive {
		t.Errorf("set: %+v", k)
	}
}
