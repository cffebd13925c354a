package channel

import "fmt"

// Limits on what a peer can make a session hold. Flow control bounds the
// DATA a peer may send per channel, but nothing else a peer sends needs
// the receiver's consent: OPEN frames (one request may take many), SET
// bindings, new channels, and frames the reader answers while the peer
// reads nothing. Each is bounded here; a peer exceeding a bound ends the
// session with a *LimitError (PROTOCOL.md, "Limits"). The same bounds
// protect a worker from its controller and a controller from a worker.
const (
	DefaultMaxChannels   = 1024
	DefaultMaxOpenBytes  = 16 << 20
	DefaultMaxSetBytes   = 16 << 20
	DefaultMaxBuffered   = 1 << 30
	DefaultMaxWriteQueue = 256 << 20
)

// LimitError ends a session whose peer made it hold more than a limit of
// its Config allows.
type LimitError struct {
	Limit string // the Config field: "MaxChannels", "MaxOpenBytes", ...
	Max   int    // its value
	What  string // what the peer did
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("channel: limit exceeded: %s (%s %d)", e.What, e.Limit, e.Max)
}

func (cfg *Config) setLimitDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxChannels, DefaultMaxChannels)
	def(&cfg.MaxOpenBytes, DefaultMaxOpenBytes)
	def(&cfg.MaxSetBytes, DefaultMaxSetBytes)
	def(&cfg.MaxBuffered, DefaultMaxBuffered)
	def(&cfg.MaxWriteQueue, DefaultMaxWriteQueue)
}

// held counts what the peer made the session hold, under s.mu.
type held struct {
	peerChans int // channels of the peer's parity in s.chans
	openBytes int // OPEN payloads of partial requests and of requests not yet accepted
	setBytes  int // SET payloads bound by the peer, and of undelivered set events
	buffered  int // DATA payloads queued or being reassembled, not yet consumed
	wqBytes   int // frame bytes waiting for the writer
}

// checkHeldLocked returns a *LimitError when a count is over its limit.
// The reader calls it after every frame. s.mu is held.
func (s *Session) checkHeldLocked() error {
	h, cfg := &s.held, &s.cfg
	switch {
	case h.peerChans > cfg.MaxChannels:
		return &LimitError{"MaxChannels", cfg.MaxChannels, fmt.Sprintf("the peer opened %d channels that are not closed", h.peerChans)}
	case h.openBytes > cfg.MaxOpenBytes:
		return &LimitError{"MaxOpenBytes", cfg.MaxOpenBytes, fmt.Sprintf("%d bytes of channel requests (OPEN frames) unfinished or not accepted", h.openBytes)}
	case h.setBytes > cfg.MaxSetBytes:
		return &LimitError{"MaxSetBytes", cfg.MaxSetBytes, fmt.Sprintf("%d bytes of bindings (SET frames) held", h.setBytes)}
	case h.buffered > cfg.MaxBuffered:
		return &LimitError{"MaxBuffered", cfg.MaxBuffered, fmt.Sprintf("%d bytes of values (DATA frames) received and not consumed", h.buffered)}
	case h.wqBytes > cfg.MaxWriteQueue:
		return &LimitError{"MaxWriteQueue", cfg.MaxWriteQueue, fmt.Sprintf("%d bytes of frames wait to be written: the peer does not read", h.wqBytes)}
	}
	return nil
}

// peerParity reports whether id is allocated by the peer.
func (s *Session) peerParity(id uint64) bool { return (id%2 == 1) != s.cfg.Initiator }

// wframeOverhead is what a queued frame costs besides its bytes (the
// wframe and its share of the queue's array), so that many tiny frames
// count too.
const wframeOverhead = 64
