package channel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Config configures one side of a session.
type Config struct {
	Initiator bool // controller side: allocates odd channel ids; the other side even ids
	Window    int  // per-channel receive window in bytes (default DefaultWindow)
	MaxFrame  int  // max payload bytes per frame we accept (default DefaultMaxFrame); more = protocol error
	Hello     any  // optional value sent in the handshake, see PeerHello

	// Limits on what the peer can make this side hold (limits.go,
	// PROTOCOL.md "Limits"); 0 means the Default value. Exceeding one ends
	// the session with a *LimitError.
	MaxChannels   int // channels opened by the peer and not yet closed on both sides
	MaxOpenBytes  int // bytes of OPEN requests unfinished or not yet accepted (also bounds one request)
	MaxSetBytes   int // bytes of SET bindings from the peer held
	MaxBuffered   int // bytes of DATA received and not yet consumed, over all channels
	MaxWriteQueue int // bytes of frames waiting to be written

	// Keepalive pings a quiet peer and fails the session with a
	// *KeepaliveError when nothing arrives for its Timeout (keepalive.go);
	// the zero value is off.
	Keepalive Keepalive
}

// Defaults and bounds for Config.
const (
	DefaultWindow   = 1 << 20
	DefaultMaxFrame = 256 << 10
	MinMaxFrame     = 1 << 10 // smaller MaxFrame/Window values are raised to this
)

// Session multiplexes channels over one connection. See the package doc.
type Session struct {
	conn      io.ReadWriteCloser
	cfg       Config
	fr        *frameReader
	peerHello any
	peerPings bool          // the peer's HELLO says it answers PING
	received  atomic.Uint64 // bytes read from conn (keepalive.go)
	// peer limits, set by the handshake before ready is closed
	peerWindow, peerMaxFrame int
	chunk                    int // max DATA payload we send per frame

	ready      chan struct{}  // closed when the handshake completed
	done       chan struct{}  // closed when the session ended
	wg         sync.WaitGroup // reader and writer
	cbwg       sync.WaitGroup // callback goroutines
	cbGoids    sync.Map       // goroutine id (int64) -> true, of running callback goroutines
	wqWake     chan struct{}  // cap 1: frames queued for the writer
	writerDone chan struct{}  // closed when writeLoop returned

	mu          sync.Mutex
	err         error // why the session ended; nil while alive
	nextID      uint64
	chans       map[uint64]*Channel
	acceptQ     []acceptItem
	acceptWake  chan struct{} // broadcast on change (see waitChan)
	wq          []wframe      // frames waiting for the writer
	writing     bool          // the right to write conn is held (writer batch or writeDirect)
	flushedWake chan struct{} // broadcast when the queue drained
	bigBufs     chan []byte   // free list of frame buffers bigger than smallBuf
	smallBufs   chan []byte   // free list of frame buffers of cap smallBuf
	held        held          // what the peer made us hold (limits.go)
}

type acceptItem struct {
	c    *Channel
	req  [][]byte
	size int // bytes of req, counted in held.openBytes
}

// NewSession performs the handshake on conn and starts the session's
// reader and writer goroutines. ctx bounds only the handshake. On error
// conn is closed. A peer with another ProtocolVersion gives *VersionError.
func NewSession(ctx context.Context, conn io.ReadWriteCloser, cfg Config) (*Session, error) {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	cfg.Window = max(cfg.Window, MinMaxFrame)
	cfg.MaxFrame = max(cfg.MaxFrame, MinMaxFrame)
	cfg.setLimitDefaults()
	cfg.Keepalive = cfg.Keepalive.withDefaults()
	s := &Session{
		conn:       conn,
		cfg:        cfg,
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
		wqWake:     make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		chans:      make(map[uint64]*Channel),
		bigBufs:    make(chan []byte, 16),
		smallBufs:  make(chan []byte, 64),
		nextID:     2,
	}
	s.fr = newFrameReader(countingReader{conn, &s.received}, cfg.MaxFrame)
	if cfg.Initiator {
		s.nextID = 1
	}
	hello, err := marshal(s, map[string]any{
		"window": uint64(cfg.Window), "maxframe": uint64(cfg.MaxFrame), "hello": cfg.Hello,
		"ping": true,
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("channel: handshake: hello: %w", err)
	}
	if len(hello) > maxHelloPayload {
		conn.Close()
		return nil, fmt.Errorf("channel: handshake: hello value of %d bytes exceeds %d", len(hello), maxHelloPayload)
	}
	pre := make([]byte, 0, preambleLen+headerLen+len(hello))
	pre = append(pre, magic...)
	pre = binary.BigEndian.AppendUint16(pre, ProtocolVersion)
	pre = appendFrame(pre, typeHello, 0, 0, hello)
	s.wq = append(s.wq, wframe{buf: pre})
	s.wqWake <- struct{}{}
	s.wg.Add(2)
	go s.writeLoop()
	go s.readLoop()
	select {
	case <-s.ready:
		s.startKeepalive()
		return s, nil
	case <-s.done:
		select {
		case <-s.ready: // handshake done, then the session broke: the caller sees Done
			return s, nil
		default:
		}
	case <-ctx.Done():
		s.fail(fmt.Errorf("channel: handshake: %w", ctxErr(ctx)))
	}
	s.Close()
	err = s.Err()
	var ve *VersionError
	var pe *ProtocolError
	if errors.As(err, &ve) || errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return nil, fmt.Errorf("channel: handshake: %w", err)
}

// startKeepalive starts keepaliveLoop when the config asks for it and
// the peer answers pings. s.wg is still held by the reader, so Close
// cannot be waiting on it yet.
func (s *Session) startKeepalive() {
	if !s.cfg.Keepalive.On() || !s.peerPings {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.wg.Add(1)
	go s.keepaliveLoop()
}

// Close ends the session at once: every channel is closed, blocked
// operations fail, queued frames not yet written are dropped (use Shutdown
// to flush first). It waits for the session's goroutines, including running
// callbacks; called from a callback, it does not wait for the callback
// goroutines (the caller is one of them: they end after their end
// callbacks, and a Close from elsewhere waits for them). Idempotent.
func (s *Session) Close() error {
	s.fail(ErrClosed)
	s.wg.Wait()
	if !s.inCallback() {
		s.cbwg.Wait()
	}
	return nil
}

// Shutdown waits (bounded by ctx) until every frame queued so far has been
// written, then closes the session. Use it after a last Send/Close so the
// peer gets them.
func (s *Session) Shutdown(ctx context.Context) error {
	var err error
	for {
		s.mu.Lock()
		idle := len(s.wq) == 0 && !s.writing
		w := waitChan(&s.flushedWake)
		ended := s.err != nil
		s.mu.Unlock()
		if idle || ended {
			break
		}
		select {
		case <-w:
		case <-s.done:
		case <-ctx.Done():
			err = fmt.Errorf("channel: shutdown: %w", ctxErr(ctx))
		}
		if err != nil {
			break
		}
	}
	s.Close()
	return err
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err tells why the session ended: ErrClosed (Close was called), io.EOF
// (the peer closed the stream at a frame boundary), an error matching
// io.ErrUnexpectedEOF (stream cut mid-frame, or a read/write failure),
// *ProtocolError, *VersionError, *LimitError, *KeepaliveError (the peer
// went quiet, see Keepalive). nil while the session is alive.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// PeerHello returns the peer's Config.Hello, normalised like a received value.
func (s *Session) PeerHello() any { return s.peerHello }

// NumChannels returns the number of channels not yet fully closed.
func (s *Session) NumChannels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.chans)
}

// fail ends the session with err unless it already ended.
func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	close(s.done)
	broadcast(&s.acceptWake)
	broadcast(&s.flushedWake)
	for _, c := range s.chans {
		broadcast(&c.wake)
	}
	s.mu.Unlock()
	s.conn.Close()
}

// broadcast wakes everybody waiting on *w. The channel is made by the
// first waiter (waitChan), so a state change nobody waits for allocates
// nothing. Both run under s.mu.
func broadcast(w *chan struct{}) {
	if *w != nil {
		close(*w)
		*w = nil
	}
}

// waitChan returns the channel that the next broadcast(w) closes.
func waitChan(w *chan struct{}) chan struct{} {
	if *w == nil {
		*w = make(chan struct{})
	}
	return *w
}

// wframe is a frame queued for the writer: buf holds the header and the
// start of the payload; body, if any, is the rest of the payload still in
// the sender's memory (a big []byte sent without copying); done is closed
// once body was written.
type wframe struct {
	buf  []byte
	body []byte
	done chan struct{}
}

// enqueueLocked hands a whole frame to the writer. s.mu is held.
func (s *Session) enqueueLocked(f []byte) {
	s.enqueueFrameLocked(wframe{buf: f})
}

func (s *Session) enqueueFrameLocked(f wframe) {
	s.wq = append(s.wq, f)
	s.held.wqBytes += len(f.buf) + wframeOverhead
	select {
	case s.wqWake <- struct{}{}:
	default:
	}
}

// Open opens a channel; the peer's Accept returns it with req. Open does
// not wait for the peer.
func (s *Session) Open(ctx context.Context, req any) (*Channel, error) {
	return s.open(ctx, req, 0)
}

// NewChannel opens a channel that the peer does not see in Accept: it is
// meant to be sent inside a value (execnet's gateway.newchannel()).
func (s *Session) NewChannel() (*Channel, error) {
	return s.open(context.Background(), nil, flagInline)
}

func (s *Session) open(ctx context.Context, req any, flags byte) (*Channel, error) {
	if err := validate(s, req); err != nil {
		return nil, fmt.Errorf("channel: open: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("channel: open: %w", ctxErr(ctx))
	}
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, fmt.Errorf("channel: open: %w", sessionEnded(err))
	}
	id := s.nextID
	s.nextID += 2
	c := s.newChannelLocked(id)
	s.chans[id] = c
	s.mu.Unlock()
	// The OPEN frames are queued under c.sendMu so that no DATA of this
	// channel can overtake them.
	c.sendMu <- struct{}{}
	defer func() { <-c.sendMu }()
	err := c.writeValue(ctx, typeOpen, flags, req, false)
	if err != nil {
		return nil, fmt.Errorf("channel: open: %w", err)
	}
	return c, nil
}

// Accept returns the next channel opened by the peer and its request value.
// Once the session ended (and the backlog is taken) it returns an error
// wrapping Err(): io.EOF when the peer closed the connection, ErrClosed
// after our Close.
func (s *Session) Accept(ctx context.Context) (*Channel, any, error) {
	for {
		s.mu.Lock()
		if len(s.acceptQ) > 0 {
			it := s.acceptQ[0]
			s.acceptQ[0] = acceptItem{}
			s.acceptQ = s.acceptQ[1:]
			s.held.openBytes -= it.size
			s.mu.Unlock()
			req, err := decodeChunks(s, it.req, nil)
			if err != nil {
				return it.c, nil, fmt.Errorf("channel: accept: channel %d: request: %w", it.c.id, err)
			}
			return it.c, req, nil
		}
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, nil, fmt.Errorf("channel: accept: %w", err)
		}
		w := waitChan(&s.acceptWake)
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("channel: accept: %w", ctxErr(ctx))
		}
	}
}

// channelRef resolves a channel id found inside a received value.
func (s *Session) channelRef(id uint64) *Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chans[id]; c != nil {
		return c
	}
	// Already fully closed (or never known): a detached, closed channel.
	c := s.newChannelLocked(id)
	c.sentClose, c.recvClose, c.localClosed = true, true, true
	return c
}

func (s *Session) newChannelLocked(id uint64) *Channel {
	return &Channel{
		s: s, id: id, sendMu: make(chan struct{}, 1),
		sendWindow: s.peerWindow, bindings: map[string]any{},
	}
}

// ctxErr turns a context's error into ours: a deadline matches both
// ErrTimeout and context.DeadlineExceeded.
func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	}
	return ctx.Err()
}

// sessionEnded wraps the session's error for a channel operation so that
// it matches ErrClosed too. The peer closing the stream (io.EOF for the
// session) is unexpected for a channel it did not close: it becomes
// io.ErrUnexpectedEOF, so that io.EOF keeps meaning "the peer closed this
// channel".
func sessionEnded(err error) error {
	if errors.Is(err, ErrClosed) {
		return err
	}
	if err == io.EOF {
		return fmt.Errorf("%w: session ended: peer closed the connection: %w", ErrClosed, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%w: session ended: %w", ErrClosed, err)
}
