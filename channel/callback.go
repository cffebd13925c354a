package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
)

// Subscription is a registration made by Subscribe.
type Subscription struct {
	item      func(any)
	nameValue func(name string, v any)
}

type setEvent struct {
	name string
	v    any
	size int // wire bytes, counted in held.setBytes
}

func (c *Channel) hasItemSubsLocked() bool {
	for _, s := range c.subs {
		if s.item != nil {
			return true
		}
	}
	return false
}

func (c *Channel) hasNameValueSubsLocked() bool {
	for _, s := range c.subs {
		if s.nameValue != nil {
			return true
		}
	}
	return false
}

// SetCallback makes item receive every value (values already queued
// first) on the channel's callback goroutine; Receive then fails with
// ErrCallbackSet. end is called exactly once after the last item: nil when
// the peer closed (Close or CloseWrite), the *RemoteError after its
// CloseWithError, an error matching ErrClosed after our Close or when the
// session ended. Either may be nil. It can be set once per channel.
func (c *Channel) SetCallback(item func(any), end func(err error)) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.cbSet {
		return fmt.Errorf("channel %d: set callback: %w", c.id, ErrCallbackSet)
	}
	c.cbSet = true
	c.cbItem, c.cbEnd = item, end
	c.startCallbacksLocked()
	return nil
}

// Subscribe registers callbacks run serially, in subscription order, on
// the channel's callback goroutine: item for every received value (values
// are then consumed by callbacks, not Receive), nameValue for every
// binding the peer Sets. Either may be nil. Relative order between item
// and nameValue calls is not kept.
func (c *Channel) Subscribe(item func(any), nameValue func(name string, v any)) *Subscription {
	sub := &Subscription{item: item, nameValue: nameValue}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c.subs = append(c.subs, sub)
	c.startCallbacksLocked()
	return sub
}

// Unsubscribe removes sub; values received afterwards are no longer
// passed to it.
func (c *Channel) Unsubscribe(sub *Subscription) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range c.subs {
		if x == sub {
			c.subs = append(c.subs[:i:i], c.subs[i+1:]...)
			break
		}
	}
	broadcast(&c.wake)
}

// startCallbacksLocked starts the channel's callback goroutine once; it
// ends after the end callback, when the channel or the session closed.
// Session.Close waits for it.
func (c *Channel) startCallbacksLocked() {
	if c.cbStarted {
		broadcast(&c.wake)
		return
	}
	c.cbStarted = true
	c.cbDone = make(chan struct{})
	c.s.cbwg.Add(1)
	go c.runCallbacks()
}

// runCallbacks is the channel's callback goroutine. A callback that
// panics (or calls runtime.Goexit) ends it: the channel is closed with a
// *RemoteError saying so (the peer's Receive and Wait get it, as in
// execnet), the end callback gets that error, and the session and the
// other channels go on.
func (c *Channel) runCallbacks() {
	s := c.s
	id := goid()
	s.cbGoids.Store(id, true)
	s.mu.Lock()
	c.cbGoid = id
	s.mu.Unlock()
	defer s.cbwg.Done()
	defer s.cbGoids.Delete(id)
	defer close(c.cbDone)
	ended := false
	defer func() {
		if ended {
			return
		}
		r := recover()
		re := &RemoteError{Message: "callback called runtime.Goexit", Stack: string(debug.Stack())}
		if r != nil {
			re.Message = fmt.Sprintf("panic in callback: %v", r)
		}
		c.callbackFailed(re)
	}()
	c.callbackLoop()
	ended = true
}

// callbackFailed closes the channel with re and tells the end callback.
func (c *Channel) callbackFailed(re *RemoteError) {
	s := c.s
	s.mu.Lock()
	if c.cbErr == nil {
		c.cbErr = re
	}
	endFn := c.cbEnd
	c.cbEnd = nil
	s.mu.Unlock()
	_ = c.CloseWithError(re)
	if endFn != nil {
		defer func() { _ = recover() }() // the end callback panicking too: nothing left to tell
		endFn(re)
	}
}

func (c *Channel) callbackLoop() {
	s := c.s
	for {
		s.mu.Lock()
		var it *item
		var ev *setEvent
		for {
			itemMode := c.cbItem != nil || c.hasItemSubsLocked()
			if len(c.setEvents) > 0 {
				ev = &c.setEvents[0]
				c.setEvents = c.setEvents[1:]
				s.held.setBytes -= ev.size
				break
			}
			if itemMode && len(c.queue) > 0 && !c.localClosed {
				x, grant := c.popLocked()
				if grant != nil {
					s.enqueueLocked(grant)
				}
				it = &x
				break
			}
			if end := c.receiveEndLocked(); end != nil {
				endFn := c.cbEnd
				c.cbEnd = nil
				s.mu.Unlock()
				if endFn != nil {
					if end == io.EOF {
						end = nil
					}
					endFn(end)
				}
				return
			}
			w := waitChan(&c.wake)
			s.mu.Unlock()
			<-w // every end of the session broadcasts too
			s.mu.Lock()
		}
		subs := append([]*Subscription(nil), c.subs...)
		cbItem := c.cbItem
		s.mu.Unlock()
		if ev != nil {
			for _, sub := range subs {
				if sub.nameValue != nil {
					sub.nameValue(ev.name, ev.v)
				}
			}
			continue
		}
		v, err := decodeReceived(s, it.chunks, nil)
		if err != nil {
			v = fmt.Errorf("channel %d: %w", c.id, err)
		}
		if cbItem != nil {
			cbItem(v)
		}
		for _, sub := range subs {
			if sub.item != nil {
				sub.item(v)
			}
		}
	}
}

// Set binds name to v on both sides of the channel (execnet's
// channel.set). The encoded binding must fit in one frame of the peer.
func (c *Channel) Set(name string, v any) error {
	s := c.s
	p, err := marshal(s, []any{name, v})
	if err != nil {
		return fmt.Errorf("channel %d: set %q: %w", c.id, name, err)
	}
	if len(p) > s.peerMaxFrame {
		return fmt.Errorf("channel %d: set %q: encoded binding of %d bytes exceeds the peer's frame limit %d", c.id, name, len(p), s.peerMaxFrame)
	}
	norm, err := decodeBytes(s, p)
	if err != nil {
		return fmt.Errorf("channel %d: set %q: %w", c.id, name, err)
	}
	// No c.sendMu: a SET may go between the frames of a value being sent
	// (reassembly only looks at DATA frames), so Set never waits for credit.
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := c.sendErrLocked(); err != nil {
		return fmt.Errorf("channel %d: set %q: %w", c.id, name, err)
	}
	s.enqueueLocked(appendFrame(nil, typeSet, 0, c.id, p))
	c.bindings[name] = norm.([]any)[1]
	broadcast(&c.wake)
	return nil
}

// Get returns the value bound to name, waiting until it is bound (by
// either side).
func (c *Channel) Get(ctx context.Context, name string) (any, error) {
	return c.get(ctx, name, false, nil)
}

// GetIgnore waits until name is bound to a value different from ignore
// (compared after normalising ignore like a sent value).
func (c *Channel) GetIgnore(ctx context.Context, name string, ignore any) (any, error) {
	p, err := marshal(c.s, ignore)
	if err != nil {
		return nil, fmt.Errorf("channel %d: get %q: ignore value: %w", c.id, name, err)
	}
	norm, err := decodeBytes(c.s, p)
	if err != nil {
		return nil, fmt.Errorf("channel %d: get %q: ignore value: %w", c.id, name, err)
	}
	return c.get(ctx, name, true, norm)
}

func (c *Channel) get(ctx context.Context, name string, hasIgnore bool, ignore any) (any, error) {
	s := c.s
	for {
		s.mu.Lock()
		v, ok := c.bindings[name]
		if ok && (!hasIgnore || !reflect.DeepEqual(v, ignore)) {
			s.mu.Unlock()
			return v, nil
		}
		if c.closedLocked() {
			end := c.receiveEndLocked()
			if end == nil {
				end = ErrClosed
			}
			s.mu.Unlock()
			if end == io.EOF {
				return nil, fmt.Errorf("channel %d: get %q: closed before bound: %w", c.id, name, end)
			}
			var re *RemoteError
			if errors.As(end, &re) {
				return nil, re
			}
			return nil, fmt.Errorf("channel %d: get %q: %w", c.id, name, end)
		}
		w := waitChan(&c.wake)
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, fmt.Errorf("channel %d: get %q: %w", c.id, name, ctxErr(ctx))
		}
	}
}

// Frame buffers: small values start in a small buffer from the session's
// free list; once a value spans frames the following frames use full-size
// buffers. Free lists are channels (no allocation per Put, and they survive
// GCs).
const smallBuf = 2048

func getFrameBuf(s *Session) []byte {
	select {
	case b := <-s.smallBufs:
		return b[:headerLen]
	default:
		return make([]byte, headerLen, smallBuf)
	}
}

// getBigFrameBuf takes a frame buffer for need bytes (header included)
// from the session's free list (a channel, not a sync.Pool: it must survive
// the frequent GCs that big received values cause).
func getBigFrameBuf(s *Session, need int) []byte {
	need = min(need, headerLen+s.chunk)
	select {
	case b := <-s.bigBufs:
		if cap(b) >= need {
			return b[:headerLen]
		}
	default:
	}
	return make([]byte, headerLen, need)
}

func putFrameBuf(s *Session, b []byte) {
	if cap(b) == smallBuf {
		select {
		case s.smallBufs <- b:
		default:
		}
		return
	}
	if cap(b) > smallBuf {
		select {
		case s.bigBufs <- b:
		default:
		}
	}
}

// goid returns the calling goroutine's id, read from its stack header
// ("goroutine 42 [running]:"). Used only to tell whether Close or Wait is
// called from a callback goroutine.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		panic("channel: cannot read the goroutine id: " + err.Error())
	}
	return id
}

// inCallback reports whether the caller runs on one of the session's
// callback goroutines.
func (s *Session) inCallback() bool {
	n := 0
	s.cbGoids.Range(func(any, any) bool { n++; return false })
	if n == 0 {
		return false
	}
	_, ok := s.cbGoids.Load(goid())
	return ok
}
