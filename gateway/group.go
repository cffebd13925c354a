package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/godist/godist/channel"
)

// Group is a set of gateways opened together, like execnet's Group.
type Group struct {
	gws []*Gateway
}

// NewGroup opens one gateway per spec, all in parallel, with DefaultOptions.
// Specs without //id= get gw0, gw1, ... (skipping ids taken by others).
// If any fails, the others are closed and the errors returned together.
func NewGroup(ctx context.Context, specs []Spec) (*Group, error) {
	return NewGroupWith(ctx, specs, DefaultOptions)
}

// NewGroupWith is NewGroup with options.
func NewGroupWith(ctx context.Context, specs []Spec, opts Options) (*Group, error) {
	specs = assignIDs(specs)
	seen := map[string]bool{}
	for _, sp := range specs {
		if seen[sp.ID] {
			return nil, fmt.Errorf("gateway: new group: id %q used twice", sp.ID)
		}
		seen[sp.ID] = true
	}
	gws := make([]*Gateway, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, sp := range specs {
		wg.Go(func() { gws[i], errs[i] = OpenWith(ctx, sp, opts) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, g := range gws {
			if g != nil {
				g.Close()
			}
		}
		return nil, err
	}
	return &Group{gws: gws}, nil
}

func assignIDs(specs []Spec) []Spec {
	out := make([]Spec, len(specs))
	copy(out, specs)
	taken := map[string]bool{}
	for _, sp := range out {
		taken[sp.ID] = true
	}
	n := 0
	for i := range out {
		if out[i].ID != "" {
			continue
		}
		for taken["gw"+strconv.Itoa(n)] {
			n++
		}
		out[i].ID = "gw" + strconv.Itoa(n)
		taken[out[i].ID] = true
	}
	return out
}

// Gateways returns the group's gateways in spec order.
func (gr *Group) Gateways() []*Gateway { return gr.gws }

// Gateway returns the gateway with the given id, or nil.
func (gr *Group) Gateway(id string) *Gateway {
	for _, g := range gr.gws {
		if g.id == id {
			return g
		}
	}
	return nil
}

// RemoteExec starts source on every gateway.
func (gr *Group) RemoteExec(ctx context.Context, source string) (*MultiChannel, error) {
	m := &MultiChannel{}
	for _, g := range gr.gws {
		ch, err := g.RemoteExec(ctx, source)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.ids = append(m.ids, g.id)
		m.chs = append(m.chs, ch)
	}
	return m, nil
}

// Exit exits all gateways in parallel within ctx (execnet's
// Group.terminate(timeout)): those still running when ctx ends are killed.
// Every worker is reaped when it returns.
func (gr *Group) Exit(ctx context.Context) error {
	errs := make([]error, len(gr.gws))
	var wg sync.WaitGroup
	for i, g := range gr.gws {
		wg.Go(func() { errs[i] = g.Exit(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes all gateways at once.
func (gr *Group) Close() error {
	var wg sync.WaitGroup
	for _, g := range gr.gws {
		wg.Go(func() { g.Close() })
	}
	wg.Wait()
	return nil
}

// MultiChannel is the set of channels of one RemoteExec on a group.
type MultiChannel struct {
	ids []string
	chs []*channel.Channel
}

// NewMultiChannel groups channels under gateway ids (same length).
func NewMultiChannel(ids []string, chs []*channel.Channel) *MultiChannel {
	if len(ids) != len(chs) {
		panic("gateway: NewMultiChannel: ids and channels differ in length")
	}
	return &MultiChannel{ids: ids, chs: chs}
}

// IDs are the gateway ids, in the order of Channels.
func (m *MultiChannel) IDs() []string { return m.ids }

// Channels are the channels, one per gateway.
func (m *MultiChannel) Channels() []*channel.Channel { return m.chs }

// Send sends v on every channel.
func (m *MultiChannel) Send(ctx context.Context, v any) error {
	var errs []error
	for i, ch := range m.chs {
		if err := ch.Send(ctx, v); err != nil {
			errs = append(errs, fmt.Errorf("gateway %s: send: %w", m.ids[i], err))
		}
	}
	return errors.Join(errs...)
}

// ReceiveEach receives one value from every channel, in order.
func (m *MultiChannel) ReceiveEach(ctx context.Context) ([]any, error) {
	out := make([]any, len(m.chs))
	for i, ch := range m.chs {
		v, err := ch.Receive(ctx)
		if err != nil {
			return out[:i], fmt.Errorf("gateway %s: receive: %w", m.ids[i], err)
		}
		out[i] = v
	}
	return out, nil
}

// Wait waits until every channel closed; the error joins the remote errors
// with their gateway ids.
func (m *MultiChannel) Wait(ctx context.Context) error {
	var errs []error
	for i, ch := range m.chs {
		if err := ch.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("gateway %s: %w", m.ids[i], err))
		}
	}
	return errors.Join(errs...)
}

// Close closes every channel.
func (m *MultiChannel) Close() error {
	for _, ch := range m.chs {
		ch.Close()
	}
	return nil
}

// Item is one entry of a merged receive queue: a value from a gateway, or
// (End true) the end of that gateway's channel with Err nil for a clean
// close or the *channel.RemoteError / session error.
type Item struct {
	GatewayID string
	Value     any
	End       bool
	Err       error
}

// Merge switches every channel to callback mode (channel.SetCallback) and
// returns one queue of their values and ends, in arrival order. After
// Merge, the channels' Receive is no longer usable.
func (m *MultiChannel) Merge() (*ReceiveQueue, error) {
	q := &ReceiveQueue{notify: make(chan struct{}, 1), open: len(m.chs)}
	for i, ch := range m.chs {
		id := m.ids[i]
		err := ch.SetCallback(
			func(v any) { q.push(Item{GatewayID: id, Value: v}) },
			func(err error) {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				q.push(Item{GatewayID: id, End: true, Err: err})
			})
		if err != nil {
			return nil, fmt.Errorf("gateway %s: merge: %w", id, err)
		}
	}
	return q, nil
}

// ReceiveQueue is the merged queue of a MultiChannel. It is unbounded, as
// in execnet: the channels' flow control ends at the callbacks.
type ReceiveQueue struct {
	mu     sync.Mutex
	items  []Item
	open   int // channels whose end item was not yet queued
	notify chan struct{}
}

func (q *ReceiveQueue) push(it Item) {
	q.mu.Lock()
	q.items = append(q.items, it)
	if it.End {
		q.open--
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Receive returns the next item; io.EOF once every channel ended and all
// items were taken.
func (q *ReceiveQueue) Receive(ctx context.Context) (Item, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = Item{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return it, nil
		}
		open := q.open
		q.mu.Unlock()
		if open == 0 {
			return Item{}, io.EOF
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
			return Item{}, fmt.Errorf("gateway: receive queue: %w", ctx.Err())
		}
	}
}
