//go:build unix

package gateway

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

func TestExitClean(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		if err := g.RemoteExecSync(ctxT(t), `channel.Send(1)`); err != nil {
			t.Fatal(err)
		}
		if err := g.Exit(ctxT(t)); err != nil {
			t.Fatalf("exit: %v", err)
		}
		select {
		case <-g.Done():
		default:
			t.Fatal("Done not closed after Exit")
		}
		if err := g.Err(); err != nil {
			t.Errorf("Err after clean exit: %v", err)
		}
		if g.cmd != nil && !g.cmd.ProcessState.Success() {
			t.Errorf("worker exit status %v", g.cmd.ProcessState)
		}
		if err := g.Exit(ctxT(t)); err != nil {
			t.Errorf("second exit: %v", err)
		}
		if _, err := g.RemoteExec(ctxT(t), ""); err == nil {
			t.Error("remote exec after exit: no error")
		}
	})
}

// A worker whose execution will not end is killed when Exit's context ends
// (execnet's test_termination: kill on timeout).
func TestExitKillsHungWorker(t *testing.T) {
	for _, tr := range transports(t) {
		if !tr.process {
			continue
		}
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			g := tr.open(t, "")
			ch, err := g.RemoteExec(ctxT(t), "import \"godist\"\ngodist.Go(func() { select {} })\nchannel.Send(\"started\")")
			if err != nil {
				t.Fatal(err)
			}
			if v, err := ch.Receive(ctxT(t)); v != "started" {
				t.Fatalf("got %v, %v", v, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = g.Exit(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("exit: %v, want deadline exceeded", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("exit took %v", d)
			}
			if g.cmd.ProcessState == nil || g.cmd.ProcessState.Success() {
				t.Errorf("worker state %v, want killed", g.cmd.ProcessState)
			}
			if _, err := ch.Receive(ctxT(t)); err == nil {
				t.Error("receive on a killed worker's channel: no error")
			}
		})
	}
}

func TestCloseFailsPendingReceive(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ch, err := g.RemoteExec(ctxT(t), `channel.Receive()`)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { _, err := ch.Receive(ctxT(t)); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		g.Close()
		if err := <-errc; err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("pending receive after Close: %v", err)
		}
		if !errors.Is(g.Err(), ErrClosed) {
			t.Errorf("Err after Close = %v, want ErrClosed", g.Err())
		}
		g.Close() // idempotent
	})
}

// A worker whose controller disappears exits by itself (execnet:
// test_popen_stdin_closed / socket connection lost).
func TestWorkerExitsWhenControllerGoes(t *testing.T) {
	for _, tr := range transports(t) {
		if !tr.process {
			continue
		}
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			g := tr.open(t, "")
			if _, err := g.RemoteExec(ctxT(t), `channel.Receive()`); err != nil {
				t.Fatal(err)
			}
			g.Session().Close() // our end of the pipes, not a kill
			select {
			case <-g.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("worker still running 10s after its stdin closed")
			}
			if !g.cmd.ProcessState.Success() {
				t.Errorf("worker exit status %v, want 0", g.cmd.ProcessState)
			}
		})
	}
}

func TestSocketServerSurvivesLostAndBadConnections(t *testing.T) {
	var log logRecorder
	addr := startServer(t, log.logf)
	spec := parseOne(t, "socket="+addr)

	// A connection that goes away while an execution waits for it.
	g1, err := Open(ctxT(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	flag := filepath.Join(t.TempDir(), "cancelled")
	ch, err := g1.RemoteExec(ctxT(t), "import \"godist\"\nimport \"os\"\nchannel.Send(1)\n<-godist.Context().Done()\nos.WriteFile("+quote(flag)+", nil, 0o644)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Receive(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	g1.Close()

	// Garbage, and a silent peer cut off.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET / HTTP/1.0\r\n\r\nthis is not godist at all, no no no"))
	c.Close()

	// The server still serves.
	g2, err := Open(ctxT(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	exitAtCleanup(t, g2)
	if err := g2.RemoteExecSync(ctxT(t), `channel.Send(2)`); err != nil {
		t.Fatal(err)
	}
	// The lost connection's execution was cancelled.
	waitFor(t, func() bool { _, err := os.Stat(flag); return err == nil })
	waitFor(t, func() bool { return strings.Contains(log.text(), "refused connection") })
	t.Logf("server log:\n%s", log.text())
}

func TestVersionMismatch(t *testing.T) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		// A worker from the future: another request version.
		s, err := channel.NewSession(context.Background(), b, channel.Config{
			Hello: map[string]any{"godist": "9.9.9", "requests": int64(99), "role": "worker"}})
		if err == nil {
			<-s.Done()
		}
		done <- err
	}()
	_, err := OpenConn(ctxT(t), parseOne(t, "popen"), a)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Remote != 99 || ve.Local != RequestVersion || !strings.Contains(err.Error(), "9.9.9") {
		t.Errorf("open: %v, want *VersionError naming 99 and 9.9.9", err)
	}
	<-done // the fake worker's own view of the failed handshake does not matter
}

func TestOpenFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Open(ctxT(t), parseOne(t, "socket="+addr)); err == nil {
		t.Error("open socket to a closed port: no error")
	}
	if _, err := OpenWith(ctxT(t), parseOne(t, "popen"), Options{WorkerCommand: []string{"/nonexistent/godist"}}); err == nil {
		t.Error("open popen of a missing command: no error")
	}
	var stderr strings.Builder
	_, err = OpenWith(ctxT(t), parseOne(t, "exec=echo oops >&2; exit 3"), Options{Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("open exec of a failing command: %v, want exit status 3", err)
	}
	if !strings.Contains(stderr.String(), "oops") {
		t.Errorf("worker stderr %q not passed through", stderr.String())
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctxT(t), parseOne(t, "exec=echo garbage before the worker; exec '"+exe+"'"))
	var pe *channel.ProtocolError
	if !errors.As(err, &pe) {
		t.Errorf("open exec with garbage on stdout: %v, want a *channel.ProtocolError", err)
	}
}

// chdir, env and nice reach a process worker; stray writes to stdout do not
// corrupt the protocol.
func TestProcessSetupAndStrayOutput(t *testing.T) {
	for _, tr := range transports(t) {
		if !tr.process {
			continue
		}
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "new", "dir")
			g := tr.open(t, "//chdir="+dir+"//env:GODIST_T=v1//nice=1")
			in, err := g.Info(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if in.Cwd != dir {
				t.Errorf("cwd %q, want %q", in.Cwd, dir)
			}
			ch, err := g.RemoteExec(ctxT(t), `import "fmt"
import "os"
import "os/exec"
import "syscall"
fmt.Println("stray print")
os.Stdout.WriteString("stray write\n")
syscall.Write(1, []byte("stray fd 1\n"))
exec.Command("echo", "child stray").Run()
c := exec.Command("echo", "child stray to stdout")
c.Stdout = os.Stdout
c.Run()
p, _ := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
channel.Send(os.Getenv("GODIST_T"))
channel.Send(p)
channel.Send(os.Getenv("GODIST_GATEWAY_WORKER"))`)
			if err != nil {
				t.Fatal(err)
			}
			vals := []any{}
			for v, err := range ch.All(ctxT(t)) {
				if err != nil {
					t.Fatal(err)
				}
				vals = append(vals, v)
			}
			// Linux getpriority returns 20-nice.
			if len(vals) != 3 || vals[0] != "v1" || vals[1] != int64(19) || vals[2] != "" {
				t.Errorf("values %v, want [v1 19 \"\"]", vals)
			}
		})
	}
}

// A worker that dies (remote code calls os.Exit) ends the gateway: pending
// operations fail and Err tells the exit status.
func TestWorkerCrash(t *testing.T) {
	for _, tr := range transports(t) {
		if !tr.process {
			continue
		}
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			g := tr.open(t, "")
			waiting, err := g.RemoteExec(ctxT(t), `channel.Receive()`)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.RemoteExecOneshot(ctxT(t), "import \"os\"\nos.Exit(3)"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-g.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("gateway not done 10s after its worker exited")
			}
			if _, err := waiting.Receive(ctxT(t)); err == nil {
				t.Error("receive from a dead worker: no error")
			}
			if err := g.Err(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
				t.Errorf("Err = %v, want exit status 3", err)
			}
			if _, err := g.Info(ctxT(t)); err == nil {
				t.Error("info from a dead worker: no error")
			}
		})
	}
}

// A silent connection and a controller speaking another request version
// end with a logged reason; the server keeps serving.
func TestSocketServerSilentAndWrongVersion(t *testing.T) {
	var log logRecorder
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, ln, ServeOptions{NoProcessSetup: true, Logf: log.logf, HandshakeTimeout: 200 * time.Millisecond})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve listener: %v", err)
		}
	}()
	addr := ln.Addr().String()

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	c := dialAuthed(t, addr) // past the (empty) token exchange, to the channel handshake
	s, err := channel.NewSession(ctxT(t), c, channel.Config{Initiator: true,
		Hello: map[string]any{"godist": "0.0.1-old", "requests": int64(0), "role": "controller"}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Error("worker kept a wrong-version connection open")
	}
	s.Close()

	g, err := Open(ctxT(t), parseOne(t, "socket="+addr))
	if err != nil {
		t.Fatal(err)
	}
	exitAtCleanup(t, g)
	if err := g.RemoteExecSync(ctxT(t), `channel.Send(1)`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		text := log.text()
		return strings.Contains(text, "version mismatch") && strings.Contains(text, "0.0.1-old") &&
			strings.Count(text, "handshake") >= 1
	})
	t.Logf("server log:\n%s", log.text())
}
