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
// accepts (out of file descriptors, say) are retried after a pause that
// doubles from 5ms to 1s, as net/http's Server.Serve does, and when out of
// descriptors the oldest unauthenticated connection is dropped to make
// room. It returns only when ctx is done or ln is closed.
func ServeListener(ctx context.Context, ln net.Listener, opts ServeOptions) error {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	pend := &pending{max: opts.MaxUnauthenticated}
	var delay time.Duration // pause after a failed accept
	failures := 0
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			failures++
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			dropped := ""
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				if p := pend.dropOldest(); p != nil {
					dropped = fmt.Sprintf("; dropped the oldest unauthenticated connection, from %s", p.c.RemoteAddr())
				}
			}
			if failures == 1 || dropped != "" {
				opts.Logf("gateway: socketserver: accept: %v; retrying in %v%s", err, delay, dropped)
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		if failures > 0 {
			opts.Logf("gateway: socketserver: accept works again after %d failures", failures)
			failures, delay = 0, 0
		}
		p := pend.add(c)
		wg.Go(func() { serveConn(ctx, p, pend, opts) })
	}
}

// serveConn authenticates and serves one accepted connection.
func serveConn(ctx context.Context, p *pendingConn, pend *pending, opts ServeOptions) {
	c := p.c
	conn, err := serverAuth(ctx, c, opts) // auth.go; closes c on failure
	if dropped := pend.remove(p); dropped != "" {
		if err == nil {
			conn.Close()
		}
		opts.Logf("gateway: socketserver: refused connection from %s: %s", c.RemoteAddr(), dropped)
		return
	}
	if err != nil {
		opts.Logf("gateway: socketserver: refused connection from %s: %v", c.RemoteAddr(), err)
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
	dropped string // why it was dropped, set under pending.mu
}

// add registers c; past the limit the oldest one is dropped.
func (p *pending) add(c net.Conn) *pendingConn {
	pc := &pendingConn{c: c}
	p.mu.Lock()
	p.conns = append(p.conns, pc)
	over := len(p.conns) > p.max
	p.mu.Unlock()
	if over {
		p.dropOldestWhy(fmt.Sprintf("dropped unauthenticated: %d connections were in the handshake (the limit), this was the oldest", p.max+1))
	}
	return pc
}

func (p *pending) dropOldest() *pendingConn {
	return p.dropOldestWhy("dropped unauthenticated: out of file descriptors, this was the oldest connection in the handshake")
}

// dropOldestWhy closes the oldest connection in the handshake; its
// serveConn then logs why.
func (p *pending) dropOldestWhy(why string) *pendingConn {
	p.mu.Lock()
	if len(p.conns) == 0 {
		p.mu.Unlock()
		return nil
	}
	pc := p.conns[0]
	p.conns[0] = nil
	p.conns = p.conns[1:]
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
