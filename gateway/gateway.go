package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/godist/godist/channel"
	"github.com/godist/godist/internal/proc"
)

// ErrClosed is Err after Close ended the gateway.
var ErrClosed = errors.New("gateway: closed")

// ErrNoMainIfWorker is Open's error in a popen worker process (started
// with GODIST_GATEWAY_WORKER=1) whose main did not call MainIfWorker and so runs
// the program again instead of serving, and opens popen gateways itself.
var ErrNoMainIfWorker = errors.New("this process was started as a popen worker (" + WorkerEnv + "=1) but runs the program instead of serving: call gateway.MainIfWorker() first in main (and in TestMain of tests that open popen gateways)")

// Options configure how gateways are opened.
type Options struct {
	// WorkerCommand is the argv of a popen worker; nil means the running
	// executable with argument "worker". GODIST_GATEWAY_WORKER=1 is always set in
	// the worker's environment. An ssh gateway ships WorkerCommand[0] (or
	// the running executable) to its host.
	WorkerCommand []string
	// Stderr receives the worker process's stderr; nil means os.Stderr.
	Stderr io.Writer
	// WaitDelay bounds how long a killed worker's stderr may stay open
	// (exec.Cmd.WaitDelay); 0 means 2s.
	WaitDelay time.Duration
	// WorkerFor returns the path of a worker binary for goos/goarch, for
	// an ssh host whose platform differs from the shipped binary's; nil
	// means such a host fails Open with ErrPlatform. Gateways opened
	// together may call it at once, for the same platform; ctx is Open's.
	// The answer is remembered per host for the life of the process.
	WorkerFor func(ctx context.Context, goos, goarch string) (path string, err error)
	// Keepalive is the controller's side of the session's keepalive
	// (channel.Keepalive): a worker that sends nothing, not even an
	// answer to a ping, for Keepalive.Timeout is lost: the gateway ends
	// with a *channel.KeepaliveError, and a worker process is killed and
	// reaped. The zero value means DefaultKeepalive; a negative Interval
	// turns it off.
	Keepalive channel.Keepalive
}

// DefaultKeepalive is the controller's keepalive when Options.Keepalive is
// zero: a frozen worker (SIGSTOP) or a dropped link is noticed after 15 s
// of silence, instead of never (or after the kernel's TCP retransmission
// timeout, minutes).
var DefaultKeepalive = channel.Keepalive{Interval: 5 * time.Second, Timeout: 15 * time.Second}

// DefaultWorkerKeepalive is the worker's keepalive when
// ServeOptions.Keepalive is zero: a worker whose controller went silent
// for a minute (its host vanished, the link dropped, or it was stopped)
// ends the connection; a stdio worker then exits. Longer than the
// controller's, so that the controller notices first and a stopped
// controller (^Z) has a while to come back.
var DefaultWorkerKeepalive = channel.Keepalive{Interval: 20 * time.Second, Timeout: 60 * time.Second}

// keepalive resolves a keepalive option: zero means def, a negative
// Interval off.
func keepalive(k, def channel.Keepalive) channel.Keepalive {
	switch {
	case k.Interval < 0:
		return channel.Keepalive{}
	case k.Interval == 0:
		return def
	}
	return k
}

// DefaultOptions are used by Open and NewGroup; cmd/godist may change them
// at start-up (before opening gateways).
var DefaultOptions Options

// Gateway is one live connection to one worker.
//
// A process gateway (popen, exec, ssh) owns one goroutine that reaps the child;
// Exit and Close stop the child (exec.Cmd.Cancel kills its process group,
// WaitDelay bounds the pipes) and wait for that goroutine. The session's
// goroutines belong to package channel and end with Close.
type Gateway struct {
	id   string
	spec Spec
	sess *channel.Session

	cmd      *exec.Cmd          // nil for socket / conn gateways
	kill     context.CancelFunc // cancels the command's context: Cmd.Cancel kills it
	procDone chan struct{}      // closed after cmd.Wait returned
	procErr  error              // cmd.Wait's result, valid after procDone
	// watchDone is closed when watchSession returned (process gateways
	// with a session only).
	watchDone chan struct{}
	shipped   int64 // ssh: bytes of worker binary copied at Open

	mu       sync.Mutex
	closeErr error // why it ended, as told by Err; set by Exit/Close
	ended    bool
}

// Open opens a gateway with DefaultOptions; ctx bounds only the set-up
// (process start, dial, handshake, spec keys).
func Open(ctx context.Context, spec Spec) (*Gateway, error) {
	return OpenWith(ctx, spec, DefaultOptions)
}

// OpenWith opens a gateway with the given options.
func OpenWith(ctx context.Context, spec Spec, opts Options) (*Gateway, error) {
	switch spec.Kind {
	case KindPopen:
		if os.Getenv(WorkerEnv) == "1" && len(opts.WorkerCommand) == 0 {
			// We were started as a popen worker and did not serve: our
			// main would start a worker that starts a worker...
			fmt.Fprintf(os.Stderr, "godist: %v\n", ErrNoMainIfWorker)
			return nil, fmt.Errorf("gateway %s: open popen: %w", spec.ID, ErrNoMainIfWorker)
		}
		argv := opts.WorkerCommand
		if len(argv) == 0 {
			exe, err := os.Executable()
			if err != nil {
				return nil, fmt.Errorf("gateway %s: open popen: %w", spec.ID, err)
			}
			argv = []string{exe, "worker"}
		}
		return openProcess(ctx, spec, argv, opts)
	case KindExec:
		return openProcess(ctx, spec, []string{"sh", "-c", spec.Command}, opts)
	case KindSocket:
		conn, err := Dial(ctx, spec)
		if err != nil {
			return nil, err
		}
		return openConn(ctx, spec, conn, opts)
	case KindSSH:
		return openSSH(ctx, spec, opts)
	}
	return nil, fmt.Errorf("gateway %s: open: unknown kind %q", spec.ID, spec.Kind)
}

// Dial connects to the socket server of a socket= spec and authenticates
// (auth.go): the connection it returns is sealed and at the channel
// handshake, ready for OpenConn. ctx bounds the dial and the exchange.
func Dial(ctx context.Context, spec Spec) (net.Conn, error) {
	if spec.Kind != KindSocket {
		return nil, fmt.Errorf("gateway %s: dial %s: not a socket= spec", spec.ID, spec.Raw)
	}
	// A server under a flood of connections sheds the oldest that have
	// not authenticated yet, which can be ours: a connection it hung up
	// on before the exchange ended is tried again, a few times.
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", spec.Addr)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: open %s: %w", spec.ID, spec.Raw, err)
		}
		conn, err := clientAuth(ctx, spec, c) // closes c on failure
		if err == nil || attempt == 6 || !hungUp(err) || ctx.Err() != nil {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// hungUp reports whether err says the peer closed or reset the connection.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// OpenConn makes a gateway over an established connection to a worker
// (whose side runs Serve), with DefaultOptions' Keepalive. It owns conn
// from then on.
func OpenConn(ctx context.Context, spec Spec, conn io.ReadWriteCloser) (*Gateway, error) {
	return openConn(ctx, spec, conn, DefaultOptions)
}

func openConn(ctx context.Context, spec Spec, conn io.ReadWriteCloser, opts Options) (*Gateway, error) {
	g := &Gateway{id: spec.ID, spec: spec}
	if err := g.start(ctx, conn, opts); err != nil {
		return nil, err
	}
	return g, nil
}

// pipeConn is the controller's end of a process worker's stdio.
type pipeConn struct {
	r, w *os.File
}

func (c pipeConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c pipeConn) Write(b []byte) (int, error) { return c.w.Write(b) }
func (c pipeConn) Close() error                { return errors.Join(c.w.Close(), c.r.Close()) }

func openProcess(ctx context.Context, spec Spec, argv []string, opts Options) (*Gateway, error) {
	g, conn, err := startProcess(spec, argv, opts)
	if err != nil {
		return nil, err
	}
	if err := g.start(ctx, conn, opts); err != nil {
		if perr := g.abort(); perr != nil {
			err = fmt.Errorf("%w (worker: %v)", err, perr)
		}
		return nil, err
	}
	return g, nil
}

// startProcess starts argv with its stdin/stdout on pipes (the returned
// conn) and the reaper goroutine; the caller does the handshake, or abort.
func startProcess(spec Spec, argv []string, opts Options) (*Gateway, pipeConn, error) {
	g := &Gateway{id: spec.ID, spec: spec, procDone: make(chan struct{})}
	fail := func(err error) (*Gateway, pipeConn, error) {
		return nil, pipeConn{}, fmt.Errorf("gateway %s: open %s: %w", spec.ID, spec.Raw, err)
	}
	childIn, parentOut, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	parentIn, childOut, err := os.Pipe()
	if err != nil {
		childIn.Close()
		parentOut.Close()
		return fail(err)
	}
	// The command's context is ours, not ctx: ctx bounds only the set-up.
	procCtx, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(procCtx, argv[0], argv[1:]...)
	// Not the token: the worker needs none, and test processes print
	// their environment.
	cmd.Env = append(withoutToken(os.Environ()), WorkerEnv+"=1")
	cmd.Stdin, cmd.Stdout = childIn, childOut
	cmd.Stderr = opts.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	// The whole group on Cancel: `sh -c` may have started the worker as a
	// child.
	wd := opts.WaitDelay
	if wd <= 0 {
		wd = 2 * time.Second
	}
	proc.Group(cmd, proc.Options{WaitDelay: wd})
	err = cmd.Start()
	childIn.Close()
	childOut.Close()
	if err != nil {
		kill()
		parentIn.Close()
		parentOut.Close()
		return fail(err)
	}
	g.cmd, g.kill = cmd, kill
	go g.reap() // owned by g: Exit and Close wait for procDone
	return g, pipeConn{r: parentIn, w: parentOut}, nil
}

// abort kills a process gateway whose set-up failed, waits for the reaper
// and returns the process's exit error.
func (g *Gateway) abort() error {
	g.kill()
	<-g.procDone
	g.waitWatch()
	return g.procErr
}

// reap waits for the worker process and then ends the session, so that
// pending operations fail as soon as the worker is gone.
func (g *Gateway) reap() {
	g.procErr = g.cmd.Wait()
	g.kill()
	close(g.procDone)
	if s := g.session(); s != nil {
		s.Close()
	}
}

// watchSession kills a process gateway's worker when the session fails
// its keepalive: a frozen worker would otherwise live on (and hold its
// test process) until the run's end. The reaper then reaps it. It returns
// when the session or the process ended.
func (g *Gateway) watchSession() {
	defer close(g.watchDone)
	select {
	case <-g.sess.Done():
	case <-g.procDone:
		return
	}
	if errors.As(g.sess.Err(), new(*channel.KeepaliveError)) {
		g.kill()
	}
}

func (g *Gateway) waitWatch() {
	if g.watchDone != nil {
		<-g.watchDone
	}
}

func (g *Gateway) session() *channel.Session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sess
}

// start does the handshake and applies the spec's keys.
func (g *Gateway) start(ctx context.Context, conn io.ReadWriteCloser, opts Options) error {
	fail := func(err error) error {
		return fmt.Errorf("gateway %s: open %s: %w", g.id, g.spec.Raw, err)
	}
	cfg := channel.Config{Initiator: true, Hello: hello("controller"), Keepalive: keepalive(opts.Keepalive, DefaultKeepalive)}
	sess, err := channel.NewSession(ctx, conn, cfg)
	if err != nil {
		conn.Close()
		return fail(fmt.Errorf("handshake: %w", err))
	}
	if err := checkHello(sess.PeerHello()); err != nil {
		shutdown(sess)
		return fail(err)
	}
	g.mu.Lock()
	g.sess = sess
	g.mu.Unlock()
	if g.procDone != nil {
		select {
		case <-g.procDone: // reap ran before sess was set
			sess.Close()
		default:
		}
		g.watchDone = make(chan struct{})
		go g.watchSession() // owned by g: Exit, Close and abort wait for it
	}
	if g.id != "" || g.spec.Chdir != "" || len(g.spec.Env) > 0 || g.spec.Nice != 0 {
		setup := SetupRequest{ID: g.id, Chdir: g.spec.Chdir, Env: g.spec.Env, Nice: g.spec.Nice}
		if err := g.call(ctx, setup.wire()); err != nil {
			sess.Close()
			return fail(err)
		}
	}
	return nil
}

// call opens a channel with req and waits for the worker to close it.
func (g *Gateway) call(ctx context.Context, req any) error {
	ch, err := g.sess.Open(ctx, req)
	if err != nil {
		return err
	}
	return drain(ctx, ch)
}

// drain receives and drops values until the channel ends; nil on a clean end.
func drain(ctx context.Context, ch *channel.Channel) error {
	for {
		_, err := ch.Receive(ctx)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if !ch.IsClosed() && ctx.Err() != nil {
			ch.Close()
		}
		return err
	}
}

// ID is the gateway's id (gw0, gw1, ... in a group, or the spec's //id=).
func (g *Gateway) ID() string { return g.id }

// Spec is the spec the gateway was opened from.
func (g *Gateway) Spec() Spec { return g.spec }

// Session is the underlying channel session, e.g. to Accept channels the
// worker's code opens.
func (g *Gateway) Session() *channel.Session { return g.sess }

func (g *Gateway) errorf(op string, err error) error {
	return fmt.Errorf("gateway %s: %s: %w", g.id, op, err)
}

// RemoteExec starts source on the worker and returns its channel; the
// channel closes when the remote code is done (with a *channel.RemoteError
// if it failed). Source is a list of statements or a package main file.
func (g *Gateway) RemoteExec(ctx context.Context, source string) (*channel.Channel, error) {
	ch, err := g.sess.Open(ctx, ExecRequest{Source: source, Mode: ModeAsync}.wire())
	if err != nil {
		return nil, g.errorf("remote exec", err)
	}
	return ch, nil
}

// RemoteExecSync runs source and waits for its end, dropping any values it
// sends; the error is the remote one (errors.As *channel.RemoteError).
func (g *Gateway) RemoteExecSync(ctx context.Context, source string) error {
	ch, err := g.sess.Open(ctx, ExecRequest{Source: source, Mode: ModeSync}.wire())
	if err != nil {
		return g.errorf("remote exec", err)
	}
	if err := drain(ctx, ch); err != nil {
		return g.errorf("remote exec", err)
	}
	return nil
}

// RemoteExecOneshot starts source and returns once the worker compiled it
// (a compile error is returned); the code then runs on without a peer: its
// channel is closed on our side.
func (g *Gateway) RemoteExecOneshot(ctx context.Context, source string) error {
	ch, err := g.sess.Open(ctx, ExecRequest{Source: source, Mode: ModeOneshot}.wire())
	if err != nil {
		return g.errorf("remote exec oneshot", err)
	}
	defer ch.Close()
	if _, err := ch.Get(ctx, acceptedName); err != nil {
		return g.errorf("remote exec oneshot", err)
	}
	if err := ch.Set(goAheadName, true); err != nil {
		return g.errorf("remote exec oneshot", err)
	}
	return nil
}

// RemoteImport makes a Go source package (file name -> source) importable
// as importPath by later executions on this gateway's connection.
func (g *Gateway) RemoteImport(ctx context.Context, importPath string, files map[string]string) error {
	if err := g.call(ctx, ImportRequest{Path: importPath, Files: files}.wire()); err != nil {
		return g.errorf("remote import", err)
	}
	return nil
}

// Info asks the worker about itself.
func (g *Gateway) Info(ctx context.Context) (Info, error) {
	ch, err := g.sess.Open(ctx, opRequest(opInfo))
	if err != nil {
		return Info{}, g.errorf("info", err)
	}
	defer ch.Close()
	v, err := ch.Receive(ctx)
	if err != nil {
		return Info{}, g.errorf("info", err)
	}
	in, err := decodeInfo(v)
	if err != nil {
		return Info{}, g.errorf("info", err)
	}
	return in, nil
}

// Done is closed when the gateway ended (and, for a process, after the
// worker was reaped).
func (g *Gateway) Done() <-chan struct{} {
	if g.procDone != nil {
		return g.procDone
	}
	return g.sess.Done()
}

// Err says why the gateway ended: nil after a clean Exit, ErrClosed after
// Close, otherwise the session's or process's error; a worker lost to the
// keepalive gives the session's *channel.KeepaliveError (not the kill that
// followed).
func (g *Gateway) Err() error {
	select {
	case <-g.Done():
	default:
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return g.closeErr
	}
	if err := g.sess.Err(); errors.As(err, new(*channel.KeepaliveError)) {
		return err
	}
	if g.procDone != nil && g.procErr != nil {
		return g.procErr
	}
	return g.sess.Err()
}

func (g *Gateway) setEnd(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.ended {
		g.ended, g.closeErr = true, err
	}
}

// Exit asks the worker to terminate and waits for it (and for the process
// to be reaped); when ctx ends first, the worker is killed. It returns nil
// if the worker ended by itself, else an error naming ctx's.
func (g *Gateway) Exit(ctx context.Context) error {
	select {
	case <-g.Done():
		g.setEnd(nil)
		return nil
	default:
	}
	if ch, err := g.sess.Open(ctx, opRequest(opTerminate)); err == nil {
		_ = ch.Close()
	}
	select {
	case <-g.Done():
		g.sess.Close()
		g.waitWatch()
		g.setEnd(nil)
		return nil
	case <-ctx.Done():
	}
	g.Close()
	err := g.errorf("exit", fmt.Errorf("worker killed: %w", ctx.Err()))
	g.mu.Lock()
	g.closeErr = err
	g.mu.Unlock()
	return err
}

// Close ends the gateway at once: the session is closed and a worker
// process killed and reaped. Idempotent.
func (g *Gateway) Close() error {
	g.setEnd(ErrClosed)
	g.sess.Close()
	if g.cmd != nil {
		g.kill()
		<-g.procDone
		g.waitWatch()
	}
	return nil
}

// withoutToken returns env without $GODIST_TOKEN and $GODIST_TOKEN_FILE.
func withoutToken(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name != TokenEnv && name != TokenFileEnv {
			out = append(out, kv)
		}
	}
	return out
}
