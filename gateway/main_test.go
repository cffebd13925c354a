//go:build unix

package gateway

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("GODIST_TEST_FORGET_MAINIFWORKER") == "" {
		MainIfWorker() // the test binary doubles as the popen/exec worker
	} else if os.Getenv(WorkerEnv) == "1" {
		forgetfulMain() // a program whose main forgot MainIfWorker
	}
	// Race-enabled workers would sleep 1s at exit, waiting for reports.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	// No DefaultTokenFile of the machine's user: a client without a token
	// must have none.
	os.Setenv("XDG_CONFIG_HOME", "/nonexistent/godist-gateway-test")
	os.Unsetenv(TokenFileEnv)
	goleak.VerifyTestMain(m)
}

// transport opens gateways of one kind for the behaviour tests.
type transport struct {
	name    string
	process bool // the worker is a child process (process-wide keys allowed)
	open    func(t testing.TB, keys string) *Gateway
}

func transports(t testing.TB) []transport {
	return append([]transport{
		{name: "pipe", open: openPipe},
		{name: "tcp", open: openTCP},
		{name: "popen", process: true, open: func(t testing.TB, keys string) *Gateway {
			return openSpec(t, "popen"+keys)
		}},
		{name: "exec", process: true, open: func(t testing.TB, keys string) *Gateway {
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			return openSpec(t, "exec=exec '"+exe+"' -test.run=^$"+keys)
		}},
	}, sshTransports(t)...)
}

// eachTransport runs f as a subtest per transport.
func eachTransport(t *testing.T, f func(t *testing.T, tr transport)) {
	for _, tr := range transports(t) {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			f(t, tr)
		})
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func parseOne(t testing.TB, s string) Spec {
	t.Helper()
	sps, err := ParseSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 1 {
		t.Fatalf("spec %q gives %d gateways", s, len(sps))
	}
	if sps[0].ID == "" {
		sps[0].ID = "gwt"
	}
	return sps[0]
}

// exitAtCleanup exits g when the test ends, and checks a process was reaped.
func exitAtCleanup(t testing.TB, g *Gateway) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.Exit(ctx)
		if g.cmd != nil && g.cmd.ProcessState == nil {
			t.Errorf("gateway %s: worker not reaped", g.ID())
		}
	})
}

func openSpec(t testing.TB, s string) *Gateway {
	t.Helper()
	g, err := Open(ctxT(t), parseOne(t, s))
	if err != nil {
		t.Fatal(err)
	}
	exitAtCleanup(t, g)
	return g
}

// openPipe serves a worker in-process on one end of a net.Pipe.
func openPipe(t testing.TB, keys string) *Gateway {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), b, ServeOptions{NoProcessSetup: true}) }()
	g, err := OpenConn(ctxT(t), parseOne(t, "popen"+keys), a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	exitAtCleanup(t, g)
	return g
}

// startServer runs ServeListener on 127.0.0.1:0 in-process until the test ends.
func startServer(t testing.TB, logf func(string, ...any)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, ln, ServeOptions{NoProcessSetup: true, Logf: logf})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve listener: %v", err)
		}
	})
	return ln.Addr().String()
}

func openTCP(t testing.TB, keys string) *Gateway {
	t.Helper()
	addr := startServer(t, t.Logf)
	return openSpec(t, "socket="+addr+keys)
}

// logRecorder collects log lines of a server.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
