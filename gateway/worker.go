package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godist/godist/channel"
	"github.com/godist/godist/internal/tmpdir"
)

// WorkerEnv is the environment variable that makes MainIfWorker serve.
const WorkerEnv = "GODIST_GATEWAY_WORKER"

// ServeOptions configure the worker side.
type ServeOptions struct {
	// Logf logs why a connection ended badly; nil means log.Printf.
	Logf func(format string, args ...any)
	// HandshakeTimeout bounds the channel handshake; 0 means 10s.
	HandshakeTimeout time.Duration
	// ShutdownGrace is how long Serve waits for running executions after
	// the connection ended; 0 means 2s. Interpreted code that ignores its
	// context can outlive Serve (the process exit ends it under ServeStdio).
	ShutdownGrace time.Duration
	// Stderr receives interpreter diagnostics; nil means os.Stderr.
	Stderr io.Writer
	// NoProcessSetup ignores the process-wide keys of a spec (chdir, env,
	// nice): for servers that share their process with other code, e.g. in
	// tests.
	NoProcessSetup bool
	// Token is the shared secret ServeListener requires every connection
	// to prove it holds (auth.go); nil admits only clients without one.
	Token []byte
	// TLS, if set, makes ServeListener speak TLS on every connection.
	TLS *tls.Config
	// MaxUnauthenticated bounds the connections ServeListener holds
	// before they proved the token; when one more arrives the oldest of
	// them is dropped. 0 means 64.
	MaxUnauthenticated int
	// Limits bound what each peer can make the server hold after the
	// handshake (see channel.Config); zero fields mean channel's defaults.
	// Its Keepalive is ignored: see Keepalive.
	Limits channel.Config
	// Keepalive is the worker's side of the session's keepalive: a
	// controller silent for Keepalive.Timeout ends the connection (Serve
	// returns a *channel.KeepaliveError). Zero means
	// DefaultWorkerKeepalive; a negative Interval turns it off.
	Keepalive channel.Keepalive
}

func (o ServeOptions) withDefaults() ServeOptions {
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 2 * time.Second
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.MaxUnauthenticated <= 0 {
		o.MaxUnauthenticated = 64
	}
	return o
}

// worker serves one connection.
type worker struct {
	opts   ServeOptions
	sess   *channel.Session
	ctx    context.Context // ends with the connection
	cancel context.CancelFunc
	gopath string

	running    atomic.Int64
	terminated atomic.Bool
	importMu   sync.Mutex
	idMu       sync.Mutex
	id         string

	warm chan *preparedInterp // cap 1: an interpreter prepared for the next execution

	wg sync.WaitGroup // request handlers, executions, background listeners, interpreter preparation
}

// Serve speaks the worker side of the gateway protocol on conn until the
// controller terminates it, the connection ends, or ctx is done. It closes
// conn. Each request runs in a goroutine owned by Serve; Serve waits for
// them (at most ServeOptions.ShutdownGrace after the connection ended).
// A clean end (terminate request, controller gone, ctx done) returns nil.
func Serve(ctx context.Context, conn io.ReadWriteCloser, opts ServeOptions) error {
	opts = opts.withDefaults()
	hctx, hcancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	cfg := opts.Limits
	cfg.Initiator, cfg.Hello = false, hello("worker")
	cfg.Keepalive = keepalive(opts.Keepalive, DefaultWorkerKeepalive)
	sess, err := channel.NewSession(hctx, conn, cfg)
	hcancel()
	if err != nil {
		conn.Close()
		return fmt.Errorf("gateway: serve: handshake: %w", err)
	}
	if err := checkHello(sess.PeerHello()); err != nil {
		shutdown(sess) // the peer gets our hello and can name the mismatch too
		return fmt.Errorf("gateway: serve: %w", err)
	}
	tmpdir.SweepOnce("") // what killed workers left behind on this machine
	gp, err := tmpdir.Make("", "godist-gopath-")
	if err != nil {
		sess.Close()
		return fmt.Errorf("gateway: serve: %w", err)
	}
	defer gp.Remove()
	gopath := gp.Path

	w := &worker{opts: opts, sess: sess, gopath: gopath, warm: make(chan *preparedInterp, 1)}
	w.ctx, w.cancel = context.WithCancel(ctx)
	w.prepareInterp()
	defer w.cancel()
	stop := context.AfterFunc(w.ctx, func() { sess.Close() })
	defer stop()
	for {
		ch, req, err := sess.Accept(w.ctx)
		if err != nil {
			break
		}
		w.wg.Go(func() { w.handle(ch, req) })
	}
	w.cancel()
	sess.Close()
	w.waitGrace()
	if w.terminated.Load() || ctx.Err() != nil {
		return nil
	}
	if err := sess.Err(); errors.Is(err, ErrIntegrity) {
		return fmt.Errorf("gateway: serve: %w", err)
	}
	if err := sess.Err(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
		!errors.Is(err, channel.ErrClosed) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("gateway: serve: %w", err)
	}
	return nil
}

// shutdown flushes what is queued (at most a second) and closes sess.
func shutdown(sess *channel.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sess.Shutdown(ctx)
}

func (w *worker) waitGrace() {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	t := time.NewTimer(w.opts.ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		w.opts.Logf("gateway: serve: %d executions still running after the connection ended", w.running.Load())
	}
}

func (w *worker) handle(ch *channel.Channel, raw any) {
	req, err := decodeRequest(raw)
	if err != nil {
		_ = ch.CloseWithError(&channel.RemoteError{Message: err.Error()})
		return
	}
	switch req.op {
	case opExec:
		x := &execution{w: w, ch: ch, ctx: w.ctx}
		x.run(req.exec)
	case opImport:
		closeWith(ch, w.remoteImport(req.imp))
	case opSetup:
		closeWith(ch, w.setup(req.setup))
	case opInfo:
		if err := ch.Send(w.ctx, w.info().wire()); err != nil {
			_ = ch.Close()
			return
		}
		_ = ch.Close()
	case opTerminate:
		w.terminated.Store(true)
		_ = ch.Close()
		w.cancel()
	}
}

func closeWith(ch *channel.Channel, err error) {
	if err != nil {
		_ = ch.CloseWithError(&channel.RemoteError{Message: err.Error()})
		return
	}
	_ = ch.Close()
}

func (w *worker) gatewayID() string {
	w.idMu.Lock()
	defer w.idMu.Unlock()
	return w.id
}

// remoteImport writes a package under GOPATH/src/<path> for later executions.
func (w *worker) remoteImport(r ImportRequest) error {
	clean := filepath.ToSlash(filepath.Clean(r.Path))
	if r.Path == "" || clean != r.Path || strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "..") {
		return fmt.Errorf("remote import: bad import path %q", r.Path)
	}
	dir := filepath.Join(w.gopath, "src", filepath.FromSlash(clean))
	w.importMu.Lock()
	defer w.importMu.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remote import %q: %w", r.Path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("remote import %q: %w", r.Path, err)
	}
	for name, src := range r.Files {
		if name != filepath.Base(name) || !strings.HasSuffix(name, ".go") {
			return fmt.Errorf("remote import %q: bad file name %q (want NAME.go)", r.Path, name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			return fmt.Errorf("remote import %q: %w", r.Path, err)
		}
	}
	return nil
}

// setup applies a spec's keys. chdir, env and nice change the whole process.
func (w *worker) setup(r SetupRequest) error {
	w.idMu.Lock()
	w.id = r.ID
	w.idMu.Unlock()
	if w.opts.NoProcessSetup {
		return nil
	}
	if r.Chdir != "" {
		if err := os.MkdirAll(r.Chdir, 0o755); err != nil {
			return fmt.Errorf("setup: chdir: %w", err)
		}
		if err := os.Chdir(r.Chdir); err != nil {
			return fmt.Errorf("setup: chdir: %w", err)
		}
	}
	for k, v := range r.Env {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("setup: env %q: %w", k, err)
		}
	}
	if r.Nice != 0 {
		if err := renice(r.Nice); err != nil {
			return fmt.Errorf("setup: nice %d: %w", r.Nice, err)
		}
	}
	return nil
}

func (w *worker) info() Info {
	cwd, _ := os.Getwd()
	host, _ := os.Hostname()
	return Info{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), PID: os.Getpid(),
		Cwd: cwd, Hostname: host, Version: Version, GoVersion: runtime.Version(),
		RequestVersion: RequestVersion, OpenChannels: w.sess.NumChannels(),
		RunningExecutions: int(w.running.Load()),
	}
}

// stdioConn is the protocol stream of a stdio worker.
type stdioConn struct {
	r, w *os.File
}

func (c stdioConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c stdioConn) Write(b []byte) (int, error) { return c.w.Write(b) }
func (c stdioConn) Close() error                { return errors.Join(c.r.Close(), c.w.Close()) }

// ServeStdio serves the gateway protocol on the process's stdin/stdout (the
// `godist worker`). It first moves the protocol to private descriptors and
// points fd 0 at /dev/null and fd 1 (and os.Stdout) at stderr, so stray
// prints of remote code or of child processes cannot corrupt frames.
func ServeStdio() error {
	in, out, err := takeStdio()
	if err != nil {
		return fmt.Errorf("gateway: serve stdio: %w", err)
	}
	os.Stdout = os.Stderr
	os.Unsetenv(WorkerEnv) // not inherited by processes remote code starts (nested popen gateways)
	conn := stdioConn{r: in, w: out}
	return Serve(context.Background(), conn, ServeOptions{})
}

// MainIfWorker turns the process into a worker if GODIST_GATEWAY_WORKER=1: it
// serves on stdio and exits (status 0 on a clean end). Call it first in
// main, and in TestMain of packages whose tests start popen gateways (the
// test binary then doubles as the worker executable).
func MainIfWorker() {
	if os.Getenv(WorkerEnv) != "1" {
		return
	}
	if err := ServeStdio(); err != nil {
		fmt.Fprintf(os.Stderr, "godist worker: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
