package channel

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Keepalive makes a session notice a peer that stopped talking: a process
// that is frozen (SIGSTOP, a debugger, a swapped-out machine) or a link
// that drops packets without a reset. Neither ends the byte stream, so
// without a keepalive such a session waits forever (or for the kernel's
// TCP retransmission timeout, minutes).
//
// While nothing arrives from the peer for Interval, the session sends a
// PING every Interval, which the peer's reader goroutine answers at once
// (not the code consuming channels: a busy consumer does not delay the
// answer). Anything received counts as a sign of life, any byte of any
// frame, so a session busy with big transfers sends no pings. When nothing
// at all has arrived for Timeout, the session fails with a
// *KeepaliveError, which every open channel's blocked and later
// operations see (wrapped, with ErrClosed).
//
// The zero value is off. A peer that did not announce PING in its HELLO
// (a build older than the frame) is never pinged, and then the timeout is
// off too: an idle healthy peer would look dead.
type Keepalive struct {
	Interval time.Duration // quiet time before a ping, and between pings; 0: no keepalive
	Timeout  time.Duration // quiet time after which the session fails; 0: 3 × Interval
}

// On reports whether k asks for keepalives.
func (k Keepalive) On() bool { return k.Interval > 0 }

func (k Keepalive) withDefaults() Keepalive {
	if k.Interval <= 0 {
		return Keepalive{}
	}
	if k.Timeout <= 0 {
		k.Timeout = 3 * k.Interval
	}
	return k
}

// KeepaliveError ends a session whose peer sent nothing for
// Keepalive.Timeout, not even an answer to a ping.
type KeepaliveError struct {
	Timeout time.Duration // the configured Keepalive.Timeout
	Quiet   time.Duration // how long nothing had arrived when the session failed
	Pings   int           // pings sent in that time, none answered
}

func (e *KeepaliveError) Error() string {
	return fmt.Sprintf("channel: keepalive: nothing received from the peer for %v (timeout %v, %d pings unanswered): the peer is frozen or the link is down",
		e.Quiet.Round(time.Millisecond), e.Timeout, e.Pings)
}

// pingPayloadLen is the size of a PING payload: opaque bytes the answer
// echoes (we send the sender's clock, in nanoseconds since the session
// started).
const pingPayloadLen = 8

// countingReader counts the bytes read from the connection: the
// keepalive's sign of life, cheaper per frame than reading the clock and
// true even in the middle of a big frame on a slow link.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(uint64(n))
	return n, err
}

// keepaliveLoop is the session's keepalive goroutine, started by
// NewSession once the handshake is done when Config.Keepalive is on and
// the peer answers pings; it ends with the session. It never writes conn
// itself (a frozen peer can block a write for ever): its pings go through
// the writer's queue, and failing the session closes conn, which ends a
// blocked write.
func (s *Session) keepaliveLoop() {
	defer s.wg.Done()
	ka := s.cfg.Keepalive
	// Checking four times per Interval (or Timeout) keeps the timeout's
	// lateness under a quarter of it at a negligible cost.
	tick := max(min(ka.Interval, ka.Timeout)/4, time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	seen := s.received.Load()
	quietSince, lastTick := start, start
	var lastPing time.Time
	pings := 0
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		now := time.Now()
		stalled := now.Sub(lastTick) > 3*tick
		lastTick = now
		if n := s.received.Load(); n != seen || stalled {
			// A tick this late means this process was not running
			// (stopped with ^Z, a suspended machine): what the peer sent
			// meanwhile may wait unread, so it gets a fresh Timeout.
			seen, quietSince, pings = n, now, 0
			continue
		}
		quiet := now.Sub(quietSince)
		if quiet >= ka.Timeout {
			s.fail(&KeepaliveError{Timeout: ka.Timeout, Quiet: quiet, Pings: pings})
			return
		}
		if quiet >= ka.Interval && now.Sub(lastPing) >= ka.Interval {
			var p [pingPayloadLen]byte
			binary.BigEndian.PutUint64(p[:], uint64(now.Sub(start)))
			s.queueControl(typePing, 0, p[:])
			lastPing = now
			pings++
		}
	}
}

// queueControl queues a session frame (channel 0) for the writer, unless
// the session ended.
func (s *Session) queueControl(typ, flags byte, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.enqueueLocked(appendFrame(nil, typ, flags, 0, payload))
	}
}

// pingFrame handles a PING on the reader goroutine: a ping is answered
// with the same payload and the ACK flag; an answer needs nothing more
// (receiving it was the sign of life).
func (s *Session) pingFrame(f frame) error {
	if f.id != 0 || len(f.payload) != pingPayloadLen {
		return protoErrorf("PING frame for channel %d with %d payload bytes, want channel 0 and %d bytes", f.id, len(f.payload), pingPayloadLen)
	}
	if f.flags&flagAck == 0 {
		s.queueControl(typePing, flagAck, f.payload)
	}
	return nil
}
