package channel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"reflect"
	"runtime/debug"
	"time"
)

// Channel is one bidirectional stream of values inside a Session. All
// methods are safe for concurrent use.
type Channel struct {
	s      *Session
	id     uint64
	sendMu chan struct{} // cap 1: one value (all its frames) at a time
	fw     frameWriter   // used under sendMu

	// Guarded by s.mu.
	wake        chan struct{} // broadcast on every state change
	opening     bool          // OPEN fragments still arriving
	inline      bool
	openReq     [][]byte
	openSize    int            // bytes in openReq, counted in held.openBytes
	counted     bool           // opened by the peer: counted in held.peerChans
	setSizes    map[string]int // wire bytes of each binding the peer set, counted in held.setBytes
	queue       []item
	partial     item // fragments of the value being reassembled
	recvOwed    int  // bytes the peer sent us that we have not granted back
	grantable   int  // consumed bytes not yet granted back
	sendWindow  int  // bytes we may still send
	sentClose   bool // CLOSE or CLOSE_ERROR sent: nothing more goes out
	recvClose   bool // CLOSE or CLOSE_ERROR received
	sentLast    bool // we half-closed
	recvLast    bool // the peer half-closed
	localClosed bool // Close/CloseWithError called
	forgotten   bool // removed from s.chans
	remoteErr   *RemoteError
	bindings    map[string]any
	setEvents   []setEvent
	subs        []*Subscription
	cbItem      func(any)
	cbEnd       func(error)
	cbSet       bool
	cbStarted   bool
	cbDone      chan struct{} // closed when the callback goroutine returned
	cbGoid      int64         // the callback goroutine's id, once it runs
	cbErr       *RemoteError  // a callback panicked (or called runtime.Goexit)
}

type item struct {
	chunks [][]byte
	credit int // bytes of the window this item holds until consumed
	size   int // payload bytes, counted in held.buffered
}

// ID returns the channel id (odd: opened by the initiator, even: by the other side).
func (c *Channel) ID() uint64 { return c.id }

// Session returns the channel's session.
func (c *Channel) Session() *Session { return c.s }

func (c *Channel) String() string { return fmt.Sprintf("channel %d", c.id) }

// countSetLocked counts a binding the peer set (n wire bytes) in
// held.setBytes, replacing its earlier value's count.
func (c *Channel) countSetLocked(name string, n int) {
	if c.forgotten {
		return
	}
	if c.setSizes == nil {
		c.setSizes = map[string]int{}
	}
	c.s.held.setBytes += n - c.setSizes[name]
	c.setSizes[name] = n
}

// dataFrameLocked takes a DATA frame: flow-control accounting and
// reassembly. s.mu is held.
func (c *Channel) dataFrameLocked(f frame) error {
	n := f.size()
	if c.recvLast {
		return protoErrorf("DATA frame for channel %d after LAST_MESSAGE", c.id)
	}
	if c.recvOwed+n > c.s.cfg.Window {
		return protoErrorf("DATA frame of %d bytes on channel %d exceeds the window (%d of %d bytes in use)", n, c.id, c.recvOwed, c.s.cfg.Window)
	}
	c.recvOwed += n
	if c.localClosed {
		Recycle(f.payload)
		return nil // in flight before our CLOSE: dropped
	}
	if f.flags&flagAbort != 0 {
		if n != 0 {
			return protoErrorf("aborting DATA frame with %d payload bytes on channel %d", n, c.id)
		}
		if f := c.grantLocked(c.partial.credit); f != nil {
			c.s.enqueueLocked(f)
		}
		c.dropPartialLocked()
		return nil
	}
	if n == 0 {
		return protoErrorf("empty DATA frame on channel %d", c.id)
	}
	c.partial.size += n
	c.s.held.buffered += n
	if f.binHdr != nil {
		c.partial.chunks = append(c.partial.chunks, f.binHdr, f.payload)
	} else {
		c.partial.chunks = append(c.partial.chunks, f.payload)
	}
	if f.flags&flagMore != 0 {
		if len(c.queue) == 0 {
			// Nothing waits to be consumed: let a value bigger than the
			// window flow. Otherwise the grant waits until the queue drains.
			if f := c.grantLocked(n); f != nil {
				c.s.enqueueLocked(f)
			}
		} else {
			c.partial.credit += n
		}
		return nil
	}
	c.partial.credit += n
	c.queue = append(c.queue, c.partial)
	c.partial = item{}
	return nil
}

// grantLocked returns consumed window credit to the peer, batched: a
// WINDOW_UPDATE goes out once a quarter of the window is consumed. A sender
// waits only while more than half the window is outstanding, so batching
// can never leave it blocked on a drained queue. It returns that frame (or
// nil) for the caller to queue or write.
func (c *Channel) grantLocked(n int) []byte {
	c.grantable += n
	if c.grantable == 0 || c.grantable < c.s.cfg.Window/4 || c.sentClose || c.s.err != nil {
		return nil
	}
	c.recvOwed -= c.grantable
	f := make([]byte, headerLen+4)
	putHeader(f, typeWindowUpdate, 0, c.id, 4)
	binary.BigEndian.PutUint32(f[headerLen:], uint32(c.grantable))
	c.grantable = 0
	return f
}

// popLocked removes the next queued value and returns it with the
// WINDOW_UPDATE frame its credit gives, if any.
func (c *Channel) popLocked() (item, []byte) {
	it := c.queue[0]
	c.queue[0] = item{}
	c.s.held.buffered -= it.size
	if len(c.queue) == 1 {
		c.queue = c.queue[:0] // the queue restarts here: no new array per value
	} else {
		c.queue = c.queue[1:]
	}
	credit := it.credit
	if len(c.queue) == 0 {
		credit += c.partial.credit
		c.partial.credit = 0
	}
	grant := c.grantLocked(credit)
	c.maybeForgetLocked()
	return it, grant
}

func (c *Channel) dropPartialLocked() {
	c.s.held.buffered -= c.partial.size
	recycleChunks(c.partial.chunks)
	c.partial = item{}
}

// sendCloseLocked queues CLOSE (or CLOSE_ERROR with payload) once.
func (c *Channel) sendCloseLocked(errPayload []byte) {
	if c.sentClose {
		return
	}
	c.sentClose = true
	if c.s.err != nil {
		return
	}
	typ := typeClose
	if errPayload != nil {
		typ = typeCloseError
	}
	c.s.enqueueLocked(appendFrame(nil, typ, 0, c.id, errPayload))
}

// maybeForgetLocked drops the channel from the session once both CLOSEs
// passed and nothing is left to read: the peer sends nothing after its
// CLOSE, so the id can never be referenced by a frame again.
func (c *Channel) maybeForgetLocked() {
	if c.forgotten || !c.sentClose || !c.recvClose || len(c.queue) > 0 {
		return
	}
	c.forgotten = true
	if c.s.chans[c.id] == c {
		delete(c.s.chans, c.id)
	}
	if c.counted {
		c.counted = false
		c.s.held.peerChans--
	}
	for _, n := range c.setSizes {
		c.s.held.setBytes -= n
	}
	c.setSizes = nil
}

// receiveEndLocked is what a receive returns once the queue is empty, or
// nil if the channel may still deliver values.
func (c *Channel) receiveEndLocked() error {
	switch {
	case c.localClosed:
		return fmt.Errorf("channel %d: receive: %w", c.id, ErrClosed)
	case c.remoteErr != nil:
		return c.remoteErr
	case c.recvClose || c.recvLast:
		return io.EOF
	case c.s.err != nil:
		return fmt.Errorf("channel %d: receive: %w", c.id, sessionEnded(c.s.err))
	}
	return nil
}

// next waits for the next queued value.
func (c *Channel) next(ctx context.Context, callback bool) (item, error) {
	s := c.s
	for {
		s.mu.Lock()
		if !callback && (c.cbItem != nil || c.hasItemSubsLocked()) {
			s.mu.Unlock()
			return item{}, fmt.Errorf("channel %d: receive: %w", c.id, ErrCallbackSet)
		}
		if len(c.queue) > 0 && !c.localClosed {
			it, grant := c.popLocked()
			if grant != nil {
				s.sendFrameUnlock(grant)
			} else {
				s.mu.Unlock()
			}
			return it, nil
		}
		if err := c.receiveEndLocked(); err != nil {
			s.mu.Unlock()
			return item{}, err
		}
		w := waitChan(&c.wake)
		s.mu.Unlock()
		select {
		case <-w:
		case <-s.done:
		case <-ctx.Done():
			return item{}, fmt.Errorf("channel %d: receive: %w", c.id, ctxErr(ctx))
		}
	}
}

// Receive returns the next value. After the peer's Close (or CloseWrite)
// and once queued values are consumed it returns io.EOF itself; after
// CloseWithError the *RemoteError. A ctx deadline gives an error matching
// ErrTimeout and context.DeadlineExceeded. After our own Close, or when
// the session ended first, the error matches ErrClosed. The value is the
// caller's; a []byte may be given back with Recycle once the caller is
// done with it.
func (c *Channel) Receive(ctx context.Context) (any, error) {
	it, err := c.next(ctx, false)
	if err != nil {
		return nil, err
	}
	v, err := decodeReceived(c.s, it.chunks, nil)
	if err != nil {
		return nil, fmt.Errorf("channel %d: receive: %w", c.id, err)
	}
	return v, nil
}

// ReceiveTimeout is Receive with a timeout.
func (c *Channel) ReceiveTimeout(d time.Duration) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.Receive(ctx)
}

// ReceiveInto decodes the next value into ptr (a non-nil pointer) with
// msgpack's typed decoding: a map or struct value fills a struct by field
// name. Values nested in `any` fields are not normalised. A *[]byte whose
// capacity holds the value is filled without allocating; one too small
// gets the received buffer (which Recycle can give back).
func (c *Channel) ReceiveInto(ctx context.Context, ptr any) error {
	if rv := reflect.ValueOf(ptr); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("channel %d: receive into: need a non-nil pointer, got %T", c.id, ptr)
	}
	it, err := c.next(ctx, false)
	if err != nil {
		return err
	}
	if _, err := decodeReceived(c.s, it.chunks, ptr); err != nil {
		return fmt.Errorf("channel %d: receive into %T: %w", c.id, ptr, err)
	}
	return nil
}

// All iterates over received values until the end: it stops quietly at
// io.EOF and yields (nil, err) once for any other error.
func (c *Channel) All(ctx context.Context) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for {
			v, err := c.Receive(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Send sends v, blocking while the peer's window for this channel is full
// and, when it writes its frames itself (see the package doc), while the
// connection takes no more bytes: ctx bounds the first wait, Close the
// second.
// An unsupported value gives *UnsupportedTypeError before anything is
// written; after Close, CloseWrite, the peer's Close or the session's end
// the error matches ErrClosed.
func (c *Channel) Send(ctx context.Context, v any) error {
	if err := validate(c.s, v); err != nil {
		return fmt.Errorf("channel %d: send: %w", c.id, err)
	}
	select {
	case c.sendMu <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("channel %d: send: %w", c.id, ctxErr(ctx))
	}
	defer func() { <-c.sendMu }()
	if err := c.writeValue(ctx, typeData, 0, v, true); err != nil {
		return fmt.Errorf("channel %d: send: %w", c.id, err)
	}
	return nil
}

// sendErrLocked tells why nothing more may be sent, or nil.
func (c *Channel) sendErrLocked() error {
	switch {
	case c.s.err != nil:
		return sessionEnded(c.s.err)
	case c.sentClose || c.sentLast || c.localClosed:
		return ErrClosed
	case c.recvClose:
		return fmt.Errorf("%w by the peer", ErrClosed)
	}
	return nil
}

// frameWriter turns one value's encoding into frames. Each channel keeps
// one (c.fw), used under c.sendMu, so a Send allocates nothing for it.
type frameWriter struct {
	c        *Channel
	ctx      context.Context
	typ      byte
	flags    byte
	credit   bool
	sent     bool          // a frame of this value went out
	lastBody chan struct{} // closed when the last zero-copy body was written
	e        encoder
}

// zeroCopyMin is the size from which a []byte is written from the
// caller's memory rather than copied into a frame buffer: a second write
// call costs less than copying that much.
const zeroCopyMin = 32 << 10

// writeValue encodes v straight into frames of at most s.chunk payload
// bytes, waiting for window credit per frame when credit is set. c.sendMu
// is held.
func (c *Channel) writeValue(ctx context.Context, typ, flags byte, v any, credit bool) error {
	s := c.s
	fw := &c.fw
	*fw = frameWriter{c: c, ctx: ctx, typ: typ, flags: flags, credit: credit}
	defer func() { *fw = frameWriter{} }()
	// Big slices are sent from the caller's memory (Send then waits for
	// their write); smaller ones are copied.
	zmin := min(s.chunk, zeroCopyMin)
	fw.e = encoder{limit: headerLen + s.chunk, zeroCopy: typ == typeData, zeroCopyMin: zmin, out: fw}
	if b, ok := v.([]byte); ok && len(b) >= zmin && typ == typeData {
		fw.e.buf = getFrameBuf(s) // only the header goes there
	} else if size := sizeHint(v); size > smallBuf {
		fw.e.buf = getBigFrameBuf(s, headerLen+size) // no growing copies of a small buffer
	} else {
		fw.e.buf = getFrameBuf(s)
	}
	err := fw.e.encode(v)
	if err == nil {
		err = fw.flush(true)
	}
	if fw.lastBody != nil {
		// The caller owns v again when Send returns: wait until the
		// writer has written the bodies that point into it.
		select {
		case <-fw.lastBody:
		case <-s.writerDone: // session ended: the writer no longer reads it
		}
	}
	if err != nil && fw.sent && typ == typeData {
		// Tell the peer to drop the fragments it has (if we still may).
		s.mu.Lock()
		if c.sendErrLocked() == nil {
			s.enqueueLocked(appendFrame(nil, typeData, flagAbort, c.id, nil))
		}
		s.mu.Unlock()
	}
	return err
}

// flush sends the encoded bytes so far as one frame.
func (fw *frameWriter) flush(final bool) error {
	c, s, e := fw.c, fw.c.s, &fw.e
	n := len(e.buf) - headerLen + len(e.body)
	if n == 0 && !final {
		return nil
	}
	fl := fw.flags
	if !final {
		fl |= flagMore
	}
	putHeader(e.buf, fw.typ, fl, c.id, n)
	s.mu.Lock()
	for {
		if err := c.sendErrLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
		if !fw.credit || c.sendWindow >= n {
			break
		}
		w := waitChan(&c.wake)
		s.mu.Unlock()
		select {
		case <-w:
		case <-s.done:
		case <-fw.ctx.Done():
			return ctxErr(fw.ctx)
		}
		s.mu.Lock()
	}
	if fw.credit {
		c.sendWindow -= n
	}
	var err error
	if s.claimWriteLocked() {
		// Written here: the body is written when this returns.
		s.mu.Unlock()
		err = s.writeDirect(e.buf, e.body)
	} else {
		wf := wframe{buf: e.buf}
		if e.body != nil {
			fw.lastBody = make(chan struct{})
			wf.body, wf.done = e.body, fw.lastBody
		}
		s.enqueueFrameLocked(wf)
		s.mu.Unlock()
	}
	fw.sent = true
	e.buf, e.body = nil, nil
	if err == nil && !final {
		e.buf = getBigFrameBuf(s, headerLen+s.chunk)
	}
	return err
}

// Close closes the channel: the peer's Receive returns io.EOF once it
// consumed what we sent; our queued values are dropped and our Receive
// returns ErrClosed. Idempotent.
func (c *Channel) Close() error {
	return c.close(nil)
}

// CloseWithError closes the channel; the peer's Receive, Wait and end
// callback get a *RemoteError with err's message (err itself if it is a
// *RemoteError; otherwise Stack is this goroutine's stack).
func (c *Channel) CloseWithError(err error) error {
	var re *RemoteError
	if !errors.As(err, &re) {
		msg := "<nil>"
		if err != nil {
			msg = err.Error()
		}
		re = &RemoteError{Message: msg, Stack: string(debug.Stack())}
	}
	p, merr := marshal(c.s, map[string]any{"Message": re.Message, "Where": re.Where, "Stack": re.Stack})
	if merr != nil {
		return fmt.Errorf("channel %d: close with error: %w", c.id, merr)
	}
	if max := c.s.peerMaxFrame; len(p) > max {
		// Keep the frame legal: cut the stack first.
		p, _ = marshal(c.s, map[string]any{"Message": truncate(re.Message, max/2), "Where": truncate(re.Where, 256), "Stack": truncate(re.Stack, max/4)})
	}
	return c.close(p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (c *Channel) close(errPayload []byte) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.localClosed {
		return nil
	}
	c.localClosed = true
	for _, it := range c.queue {
		s.held.buffered -= it.size
		recycleChunks(it.chunks)
	}
	c.queue = nil
	c.dropPartialLocked()
	c.sendCloseLocked(errPayload)
	c.maybeForgetLocked()
	broadcast(&c.wake)
	return nil
}

// CloseWrite half-closes (execnet's LAST_MESSAGE): we send nothing more,
// the peer's Receive returns io.EOF after our values, and we can still
// receive. When both sides half-closed the channel is closed. Idempotent.
func (c *Channel) CloseWrite() error {
	s := c.s
	// A Send in progress fails at its next frame; the peer drops the
	// partial value when LAST_MESSAGE arrives.
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sentLast || c.sentClose {
		return nil
	}
	c.sentLast = true
	if s.err == nil {
		s.enqueueLocked(appendFrame(nil, typeLastMessage, 0, c.id, nil))
	}
	if c.recvLast {
		c.sendCloseLocked(nil)
		c.maybeForgetLocked()
	}
	broadcast(&c.wake)
	return nil
}

func (c *Channel) closedLocked() bool {
	return c.localClosed || c.recvClose || c.s.err != nil
}

// IsClosed reports whether the channel is closed (by either side, or by
// the end of the session).
func (c *Channel) IsClosed() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.closedLocked()
}

// Wait waits until the channel is closed and, if callbacks are set, until
// they ran to the end (the end callback included; execnet's waitclose).
// It returns nil after a clean close by either side, the *RemoteError
// after the peer's CloseWithError or after a callback of ours panicked,
// an error matching ErrClosed (and the session's Err) when the session
// ended first. Called from the channel's own callback it does not wait
// for the callbacks (it would wait for itself).
func (c *Channel) Wait(ctx context.Context) error {
	s := c.s
	for {
		s.mu.Lock()
		var err error
		done := true
		switch {
		case c.remoteErr != nil:
			err = c.remoteErr
		case c.recvClose || c.localClosed:
		case s.err != nil:
			err = fmt.Errorf("channel %d: wait: %w", c.id, sessionEnded(s.err))
		default:
			done = false
		}
		if done {
			cbDone, self := c.cbDone, c.cbGoid != 0 && c.cbGoid == goid()
			s.mu.Unlock()
			if cbDone != nil && !self {
				select {
				case <-cbDone:
				case <-ctx.Done():
					return fmt.Errorf("channel %d: wait for callbacks: %w", c.id, ctxErr(ctx))
				}
			}
			s.mu.Lock()
			if c.cbErr != nil {
				err = c.cbErr
			}
			s.mu.Unlock()
			return err
		}
		w := waitChan(&c.wake)
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("channel %d: wait: %w", c.id, ctxErr(ctx))
		}
	}
}

// sizeHint is the encoded size of v when it is cheap to know, else 0.
func sizeHint(v any) int {
	switch v := v.(type) {
	case []byte:
		return len(v) + 5
	case string:
		return len(v) + 5
	}
	return 0
}
