package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawPeer is a hand-written initiator on one end of conn: it writes the
// handshake and then whatever frames gen produces, until the session
// under test hangs up. With read set it also drains what the session
// writes; without it, it never reads (a peer that does not read).
func rawPeer(t *testing.T, conn net.Conn, read bool, gen func(i int) []byte) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := conn.Write(rawHandshake(t, ProtocolVersion)); err != nil {
			return
		}
		var buf bytes.Buffer
		for i := 0; ; i++ {
			buf.Reset()
			for range 64 {
				b := gen(i)
				if b == nil {
					conn.Write(buf.Bytes())
					conn.Close() // the session sees io.EOF
					return
				}
				buf.Write(b)
				i++
			}
			if _, err := conn.Write(buf.Bytes()); err != nil {
				return
			}
		}
	}()
	go func() {
		defer close(readDone)
		if read {
			io.Copy(io.Discard, conn)
		}
	}()
	return func() {
		conn.Close()
		<-done
		<-readDone
	}
}

// TestLimits: a peer that makes the session hold more than a limit ends
// the session with a *LimitError naming it; within a limit (bindings
// replaced, channels closed) it goes on.
func TestLimits(t *testing.T) {
	const kb = 1 << 10
	chunk := bytes.Repeat([]byte{0xa1}, kb) // msgpack bytes of no complete value: never decoded
	set := func(id uint64, name string) []byte {
		p, err := marshal(nil, []any{name, strings.Repeat("v", 900)})
		if err != nil {
			t.Fatal(err)
		}
		return appendFrame(nil, typeSet, 0, id, p)
	}
	open := appendFrame(nil, typeOpen, 0, 1, []byte{0xc0})
	for _, tc := range []struct {
		name  string
		cfg   Config
		read  bool
		gen   func(i int) []byte
		limit string // "" means: no limit exceeded in 2000 frames
	}{
		{"open continuations", Config{MaxOpenBytes: 64 * kb}, true, func(i int) []byte {
			return appendFrame(nil, typeOpen, flagMore, 1, chunk)
		}, "MaxOpenBytes"},
		{"requests not accepted", Config{MaxOpenBytes: 64 * kb}, true, func(i int) []byte {
			return appendFrame(nil, typeOpen, 0, uint64(2*i+1), chunk)
		}, "MaxOpenBytes"},
		{"channels not closed", Config{MaxChannels: 16}, true, func(i int) []byte {
			return appendFrame(nil, typeOpen, flagInline, uint64(2*i+1), []byte{0xc0})
		}, "MaxChannels"},
		{"channels closed", Config{MaxChannels: 16}, true, func(i int) []byte {
			if i >= 2000 {
				return nil
			}
			id := uint64(2*i + 1)
			return cat(appendFrame(nil, typeOpen, flagInline, id, []byte{0xc0}), appendFrame(nil, typeClose, 0, id, nil))
		}, ""},
		{"bindings", Config{MaxSetBytes: 64 * kb}, true, func(i int) []byte {
			if i == 0 {
				return open
			}
			return set(1, fmt.Sprint("k", i))
		}, "MaxSetBytes"},
		{"binding replaced", Config{MaxSetBytes: 64 * kb}, true, func(i int) []byte {
			if i == 0 {
				return open
			}
			if i >= 2000 {
				return nil
			}
			return set(1, "k")
		}, ""},
		{"one endless value", Config{MaxBuffered: 64 * kb}, true, func(i int) []byte {
			if i == 0 {
				return open
			}
			return appendFrame(nil, typeData, flagMore, 1, chunk)
		}, "MaxBuffered"},
		{"peer does not read", Config{MaxWriteQueue: 64 * kb}, false, func(i int) []byte {
			id := uint64(2*i + 1)
			return cat(appendFrame(nil, typeOpen, flagInline, id, []byte{0xc0}), appendFrame(nil, typeClose, 0, id, nil))
		}, "MaxWriteQueue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			stop := rawPeer(t, a, tc.read, tc.gen)
			defer stop()
			s, err := NewSession(ctxT(t), b, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			select {
			case <-s.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("session did not end")
			}
			err = s.Err()
			var le *LimitError
			if tc.limit == "" {
				// io.EOF, or a write failing on the pipe the peer closed
				if errors.As(err, &le) || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("session ended with %v, want the peer's hang-up", err)
				}
				return
			}
			if !errors.As(err, &le) || le.Limit != tc.limit {
				t.Fatalf("session ended with %v, want a *LimitError for %s", err, tc.limit)
			}
			t.Log(err)
			if !strings.HasPrefix(err.Error(), "channel: limit exceeded: ") {
				t.Errorf("error text %q", err)
			}
			// Channel operations fail with it too.
			if _, err := s.Open(context.Background(), nil); !errors.As(err, &le) {
				t.Errorf("Open after the limit: %v", err)
			}
		})
	}
}

// TestLimitsAccounting: after ordinary traffic, closed on both sides and
// consumed, nothing is counted as held any more (a drifting count would
// end a long-lived session for nothing).
func TestLimitsAccounting(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		a, b := sessions(t, tr, Config{}, Config{})
		big := bytes.Repeat([]byte("x"), 3<<20) // bigger than the window: partial credits
		for i := range 20 {
			ca, cb := openPair(t, a, b, strings.Repeat("r", i*10000)) // fragmented OPENs too
			cb.Set("k", i)
			cb.Set(fmt.Sprint("k", i), "v")
			ca.Set("m", i)
			mustSend(t, ca, big)
			mustSend(t, ca, "small")
			mustReceive(t, cb, big)
			if i%2 == 0 {
				mustReceive(t, cb, "small")
			}
			inl, err := a.NewChannel()
			if err != nil {
				t.Fatal(err)
			}
			mustSend(t, ca, inl)
			inl.Close()
			ca.Close()
			cb.Close()
		}
		waitFor(t, func() bool { return a.NumChannels() == 0 && b.NumChannels() == 0 })
		for _, s := range []*Session{a, b} {
			s.mu.Lock()
			h := s.held
			s.mu.Unlock()
			h.wqBytes = 0
			if h != (held{}) {
				t.Errorf("held after everything closed: %+v", h)
			}
		}
	})
}
