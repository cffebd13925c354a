package channel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// proxy forwards TCP connections to a backend until freeze: then, like a
// link that silently went down, it forwards nothing more without closing
// anything. blackhole: it goes on reading and drops the bytes (the
// sender's writes succeed); else it stops reading (they block once the
// socket buffers are full).
type proxy struct {
	ln        net.Listener
	backend   string
	blackhole bool
	frozen    atomic.Bool
	closed    chan struct{}
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     []net.Conn
}

func startProxy(t testing.TB, backend string, blackhole bool) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, blackhole: blackhole, closed: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.backend)
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
}

func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if p.frozen.Load() {
			if p.blackhole {
				continue
			}
			<-p.closed
			return
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *proxy) freeze() { p.frozen.Store(true) }

func (p *proxy) close() {
	select {
	case <-p.closed:
		return
	default:
	}
	close(p.closed)
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// proxiedPair is a TCP connection pair through a proxy.
func proxiedPair(t testing.TB, blackhole bool) (io.ReadWriteCloser, io.ReadWriteCloser, *proxy) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := startProxy(t, ln.Addr().String(), blackhole)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	return a, b, p
}

// Keepalives for tests over real transports: short, with room for a
// loaded machine running the race detector.
var testKeepalive = Keepalive{Interval: 50 * time.Millisecond, Timeout: 600 * time.Millisecond}

// TestKeepaliveDroppedLink: a link that stops forwarding mid-session ends
// both sides with *KeepaliveError within the timeout, and the channels
// blocked on it see that error.
func TestKeepaliveDroppedLink(t *testing.T) {
	for _, mode := range []struct {
		name      string
		blackhole bool
	}{{"blackhole", true}, {"stall", false}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			x, y, p := proxiedPair(t, mode.blackhole)
			tr := transport{"proxy", func(testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser) { return x, y }}
			a, b := sessions(t, tr, Config{Keepalive: testKeepalive}, Config{Keepalive: testKeepalive})
			ca, cb := openPair(t, a, b, "req")
			mustSend(t, ca, "before")
			mustReceive(t, cb, "before")

			// Each side blocked in a Receive, one also sending a stream.
			type recvErr struct {
				c   *Channel
				err error
			}
			errs := make(chan recvErr, 2)
			for _, c := range []*Channel{ca, cb} {
				go func() {
					_, err := c.Receive(context.Background())
					errs <- recvErr{c, err}
				}()
			}
			stopSend := make(chan struct{})
			sendDone := make(chan error, 1)
			go func() {
				chunk := bytes.Repeat([]byte{7}, 64<<10)
				for {
					select {
					case <-stopSend:
						sendDone <- nil
						return
					default:
					}
					if err := ca.Send(context.Background(), chunk); err != nil {
						sendDone <- err
						return
					}
				}
			}()
			time.Sleep(100 * time.Millisecond) // the stream flows
			frozen := time.Now()
			p.freeze()
			for _, s := range []*Session{a, b} {
				select {
				case <-s.Done():
				case <-time.After(testKeepalive.Timeout + 5*time.Second):
					t.Fatalf("session alive %v after the link froze", time.Since(frozen))
				}
				var ke *KeepaliveError
				if err := s.Err(); !errors.As(err, &ke) {
					t.Fatalf("session error %v, want *KeepaliveError", err)
				} else if ke.Timeout != testKeepalive.Timeout || ke.Quiet < ke.Timeout {
					t.Errorf("keepalive error %+v", ke)
				}
			}
			// The last sign of life came at most an interval (a ping's
			// answer) before the freeze.
			if d := time.Since(frozen); d < testKeepalive.Timeout-testKeepalive.Interval {
				t.Errorf("sessions failed %v after the freeze, before the timeout %v", d, testKeepalive.Timeout)
			}
			t.Logf("both sessions failed %v after the freeze", time.Since(frozen))
			// The receive on b returns the values that got through, then
			// the keepalive error.
			for range 2 {
				r := <-errs
				err := r.err
				for err == nil {
					_, err = r.c.Receive(context.Background())
				}
				var ke *KeepaliveError
				if !errors.As(err, &ke) || !errors.Is(err, ErrClosed) {
					t.Errorf("blocked receive: %v, want *KeepaliveError and ErrClosed", err)
				}
			}
			close(stopSend)
			if err := <-sendDone; !errors.As(err, new(*KeepaliveError)) {
				t.Errorf("send: %v, want *KeepaliveError", err)
			}
		})
	}
}

// TestKeepaliveIdleStaysUp: an idle healthy session over each transport
// lives through many intervals, and works after them.
func TestKeepaliveIdleStaysUp(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		t.Parallel()
		ka := Keepalive{Interval: 20 * time.Millisecond, Timeout: 400 * time.Millisecond}
		a, b := sessions(t, tr, Config{Keepalive: ka}, Config{Keepalive: ka})
		ca, cb := openPair(t, a, b, nil)
		time.Sleep(50 * ka.Interval)
		if err := a.Err(); err != nil {
			t.Fatalf("initiator: %v", err)
		}
		if err := b.Err(); err != nil {
			t.Fatalf("worker: %v", err)
		}
		mustSend(t, cb, "after")
		mustReceive(t, ca, "after")
	})
}

// TestKeepaliveBusy: big transfers on a session whose consumer takes
// longer than the timeout between values keep the session up: data
// counts as a sign of life, and the pings of the side whose sends wait
// for window credit are answered by the reader, not by the consumer.
func TestKeepaliveBusy(t *testing.T) {
	for _, tr := range []transport{transports[2], {"proxy", func(t testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser) {
		x, y, _ := proxiedPair(t, false)
		return x, y
	}}} {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			ka := Keepalive{Interval: 20 * time.Millisecond, Timeout: 300 * time.Millisecond}
			a, b := sessions(t, tr, Config{Keepalive: ka}, Config{Keepalive: ka})
			ca, cb := openPair(t, a, b, nil)
			big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16) // 4 MiB: several windows
			const n = 6
			done := make(chan error, 1)
			go func() {
				for range n {
					if err := ca.Send(context.Background(), big); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := range n {
				if i%2 == 1 {
					time.Sleep(2 * ka.Timeout) // a slow consumer
				}
				v, err := cb.Receive(ctxT(t))
				if err != nil {
					t.Fatalf("value %d: %v", i, err)
				}
				if !bytes.Equal(v.([]byte), big) {
					t.Fatalf("value %d differs", i)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if a.Err() != nil || b.Err() != nil {
				t.Fatalf("sessions ended: %v / %v", a.Err(), b.Err())
			}
		})
	}
}

// pingPeer is the far end of a session written by hand: it sends a
// handshake and collects the frames it is sent; it answers nothing.
type pingPeer struct {
	conn   net.Conn
	frames chan frame
}

func newPingPeer(t *testing.T, conn net.Conn, handshake []byte) *pingPeer {
	p := &pingPeer{conn: conn, frames: make(chan frame, 100)}
	go func() {
		fr := newFrameReader(conn, 1<<20)
		if fr.readPreamble() != nil {
			close(p.frames)
			return
		}
		for {
			f, err := fr.next(1 << 20)
			if err != nil {
				close(p.frames)
				return
			}
			p.frames <- f
		}
	}()
	go conn.Write(handshake)
	return p
}

// pingHandshake is rawHandshake with the PING capability announced.
func pingHandshake(t testing.TB) []byte {
	hello, err := marshal(nil, map[string]any{"window": uint64(DefaultWindow), "maxframe": uint64(DefaultMaxFrame), "hello": nil, "ping": true})
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(magic), 0, ProtocolVersion)
	return appendFrame(b, typeHello, 0, 0, hello)
}

// TestKeepaliveTiming runs on a fake clock against a peer that reads but
// never answers: pings go out every Interval once the session is quiet,
// and the session fails within a tick after Timeout.
func TestKeepaliveTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, y := net.Pipe()
		peer := newPingPeer(t, y, pingHandshake(t))
		ka := Keepalive{Interval: 5 * time.Second, Timeout: 15 * time.Second}
		start := time.Now()
		s, err := NewSession(context.Background(), x, Config{Initiator: true, Keepalive: ka})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if f := <-peer.frames; f.typ != typeHello {
			t.Fatalf("first frame %s", typeName(f.typ))
		}
		var pings []time.Duration
		pingsDone := make(chan struct{})
		go func() {
			defer close(pingsDone)
			for f := range peer.frames {
				if f.typ == typePing && f.flags == 0 && f.id == 0 && len(f.payload) == pingPayloadLen {
					pings = append(pings, time.Since(start))
				}
			}
		}()
		<-s.Done()
		failedAt := time.Since(start)
		var ke *KeepaliveError
		if !errors.As(s.Err(), &ke) {
			t.Fatalf("session error %v, want *KeepaliveError", s.Err())
		}
		if failedAt < ka.Timeout || failedAt > ka.Timeout+ka.Interval/4 {
			t.Errorf("failed after %v, want %v..%v", failedAt, ka.Timeout, ka.Timeout+ka.Interval/4)
		}
		s.Close()
		y.Close()
		<-pingsDone
		want := []time.Duration{5 * time.Second, 10 * time.Second}
		if len(pings) != len(want) || pings[0] != want[0] || pings[1] != want[1] {
			t.Errorf("pings at %v, want %v", pings, want)
		}
		if ke.Pings != 2 {
			t.Errorf("error counts %d pings, want 2: %v", ke.Pings, ke)
		}
		t.Log(ke)
	})
}

// TestKeepaliveAnswers: a ping is answered by the reader even
// while nothing consumes the channels, with the payload echoed.
func TestKeepaliveAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, y := net.Pipe()
		peer := newPingPeer(t, y, pingHandshake(t))
		s, err := NewSession(context.Background(), x, Config{Initiator: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		<-peer.frames // HELLO
		payload := []byte("12345678")
		if _, err := y.Write(appendFrame(nil, typePing, 0, 0, payload)); err != nil {
			t.Fatal(err)
		}
		f := <-peer.frames
		if f.typ != typePing || f.flags != flagAck || f.id != 0 || !bytes.Equal(f.payload, payload) {
			t.Fatalf("answer %s flags %x id %d payload %q", typeName(f.typ), f.flags, f.id, f.payload)
		}
		// An answer is not answered.
		y.Write(appendFrame(nil, typePing, flagAck, 0, payload))
		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case f := <-peer.frames:
			t.Fatalf("answer to an answer: %s %x", typeName(f.typ), f.flags)
		default:
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		s.Close()
		y.Close()
	})
}

// TestKeepaliveOldPeer: a peer whose HELLO does not announce PING (an
// older build, which would take the frame for a protocol error) is never
// pinged and never timed out.
func TestKeepaliveOldPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, y := net.Pipe()
		peer := newPingPeer(t, y, rawHandshake(t, ProtocolVersion))
		s, err := NewSession(context.Background(), x, Config{Initiator: true, Keepalive: Keepalive{Interval: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		<-peer.frames // HELLO
		time.Sleep(time.Hour)
		synctest.Wait()
		select {
		case f := <-peer.frames:
			t.Fatalf("old peer got a %s frame", typeName(f.typ))
		default:
		}
		if err := s.Err(); err != nil {
			t.Fatalf("session against an old peer: %v", err)
		}
		s.Close()
		y.Close()
	})
}

// TestPingProtocolErrors: a PING must be on channel 0 with 8 bytes.
func TestPingProtocolErrors(t *testing.T) {
	for name, f := range map[string][]byte{
		"channel 3": appendFrame(nil, typePing, 0, 3, []byte("12345678")),
		"short":     appendFrame(nil, typePing, 0, 0, []byte("1234")),
		"bad flags": appendFrame(nil, typePing, 0x02, 0, []byte("12345678")),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				x, y := net.Pipe()
				newPingPeer(t, y, append(pingHandshake(t), f...))
				s, err := NewSession(context.Background(), x, Config{})
				if err == nil {
					<-s.Done()
					err = s.Err()
					s.Close()
				}
				if !isProto(err) {
					t.Fatalf("got %v, want *ProtocolError", err)
				}
				t.Log(err)
				y.Close()
			})
		})
	}
}
