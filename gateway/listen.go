package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// ServeListener serves every connection accepted on ln as a worker (the
// `godist socketserver`), until ctx is done; it then closes ln, ends all
// connections and waits for their Serve calls. Each connection first
// proves it holds opts.Token (and speaks TLS if opts.TLS is set; see
// auth.go) or is refused before any request is read. A connection that
// fails (refused, garbage, wrong version, a limit exceeded) is logged
// with the reason; the others go on.
//
// Nothing a client does ends ServeListener: at most
// opts.MaxUnauthenticated connections wait in the handshake at once (one
// more drops the oldest), each for at most opts.HandshakeTimeout; failed
// accepts are retried after a pause that doubles from 5ms to 1s, as
// net/http's Server.Serve does, except that when out of file descriptors
// the oldest unauthenticated connection is dropped to make room and the
// accept retried at once. Refusals are logged at most 10 a second, accept
// failures once a second. It returns only when ctx is done or ln is
// closed.
func ServeListener(ctx context.Context, ln net.Listener, opts ServeOptions) error {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	pend := &pending{max: opts.MaxUnauthenticated}
	refusals := &logLimiter{logf: opts.Logf}
	acceptLog := &logLimiter{logf: opts.Logf, every: time.Second}
	var delay time.Duration // pause after a failed accept
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				if p := pend.dropOldest(); p != nil {
					// A descriptor is free again: accept at once.
					acceptLog.printf("gateway: socketserver: accept: %v; dropping the oldest unauthenticated connections", err)
					continue
				}
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			acceptLog.printf("gateway: socketserver: accept: %v; retrying in %v", err, delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		delay = 0
		p := pend.add(c)
		wg.Go(func() { serveConn(ctx, p, pend, refusals, opts) })
	}
}

// logLimiter logs at most a burst of 10 lines per interval (default 1s)
// and then how many it left out, so that a flood of bad connections cannot
// flood the log too.
type logLimiter struct {
	logf    func(string, ...any)
	every   time.Duration
	mu      sync.Mutex
	start   time.Time // of the current interval
	n       int       // lines logged in it
	skipped int
}

func (l *logLimiter) printf(format string, args ...any) {
	every, burst := l.every, 10
	if every == 0 {
		every = time.Second
	} else {
		burst = 1
	}
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.start) >= every {
		l.start, l.n = now, 0
	}
	if l.n >= burst {
		l.skipped++
		l.mu.Unlock()
		return
	}
	l.n++
	skipped := l.skipped
	l.skipped = 0
	l.mu.Unlock()
	if skipped > 0 {
		format += fmt.Sprintf(" (%d similar lines left out)", skipped)
	}
	l.logf(format, args...)
}

// serveConn authenticates and serves one accepted connection.
func serveConn(ctx context.Context, p *pendingConn, pend *pending, refusals *logLimiter, opts ServeOptions) {
	c := p.c
	conn, err := serverAuth(ctx, c, opts, func() { pend.spoke(p) }) // auth.go; closes c on failure
	if dropped := pend.remove(p); dropped != "" {
		if err == nil {
			conn.Close()
		}
		refusals.printf("gateway: socketserver: refused connection from %s: %s", c.RemoteAddr(), dropped)
		return
	}
	if err != nil {
		refusals.printf("gateway: socketserver: refused connection from %s: %v", c.RemoteAddr(), err)
		return
	}
	if err := Serve(ctx, conn, opts); err != nil {
		opts.Logf("gateway: socketserver: connection from %s: %v", c.RemoteAddr(), err)
	}
}

// pending holds the connections still in the handshake, oldest first.
type pending struct {
	mu    sync.Mutex
	max   int
	conns []*pendingConn
}

type pendingConn struct {
	c       net.Conn
	spoke   bool   // its first line came; under pending.mu
	dropped string // why it was dropped, set under pending.mu
}

// spoke records that pc sent its first line: connections that sent
// nothing are dropped first, so a flood of idle ones cannot push out a
// client in the middle of its exchange.
func (p *pending) spoke(pc *pendingConn) {
	p.mu.Lock()
	pc.spoke = true
	p.mu.Unlock()
}

// add registers c; past the limit the oldest one is dropped.
func (p *pending) add(c net.Conn) *pendingConn {
	pc := &pendingConn{c: c}
	p.mu.Lock()
	p.conns = append(p.conns, pc)
	over := len(p.conns) > p.max
	p.mu.Unlock()
	if over {
		p.dropOldestWhy(fmt.Sprintf("dropped unauthenticated: %d connections were in the handshake (the limit), this was the oldest of those that sent nothing, or of all", p.max+1))
	}
	return pc
}

func (p *pending) dropOldest() *pendingConn {
	return p.dropOldestWhy("dropped unauthenticated: out of file descriptors, this was the oldest connection in the handshake (of those that sent nothing, if any)")
}

// dropOldestWhy closes the oldest connection in the handshake that sent
// nothing yet, else the oldest; its serveConn then logs why.
func (p *pending) dropOldestWhy(why string) *pendingConn {
	p.mu.Lock()
	if len(p.conns) == 0 {
		p.mu.Unlock()
		return nil
	}
	i := 0
	for j, pc := range p.conns {
		if !pc.spoke {
			i = j
			break
		}
	}
	pc := p.conns[i]
	p.conns = append(p.conns[:i], p.conns[i+1:]...)
	pc.dropped = why
	p.mu.Unlock()
	pc.c.Close()
	return pc
}

// remove unregisters pc after its handshake and tells whether it was
// dropped meanwhile (then why).
func (p *pending) remove(pc *pendingConn) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.dropped != "" {
		return pc.dropped
	}
	for i, x := range p.conns {
		if x == pc {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			break
		}
	}
	return ""
}
