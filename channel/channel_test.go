package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"
)

type point struct {
	X, Y int
	Name string `msgpack:"name"`
	skip int
}

// valueCases: value sent -> value received (the documented value model).
var valueCases = []struct {
	name string
	in   any
	want any
}{
	{"nil", nil, nil},
	{"true", true, true},
	{"int", 42, int64(42)},
	{"negint", -7, int64(-7)},
	{"int8", int8(-3), int64(-3)},
	{"int16", int16(300), int64(300)},
	{"int32", int32(-70000), int64(-70000)},
	{"int64", int64(1) << 40, int64(1) << 40},
	{"uint", uint(5), uint64(5)},
	{"uint8", uint8(255), uint64(255)},
	{"uint16", uint16(65535), uint64(65535)},
	{"uint32", uint32(1) << 31, uint64(1) << 31},
	{"uint64", uint64(1) << 63, uint64(1) << 63},
	{"float32", float32(1.5), float64(1.5)},
	{"float64", 2.25, 2.25},
	{"string", "héllo", "héllo"},
	{"emptystring", "", ""},
	{"bytes", []byte("ab\x00c"), []byte("ab\x00c")},
	{"emptybytes", []byte{}, []byte{}},
	{"bytes5k", bytes.Repeat([]byte{5}, 5000), bytes.Repeat([]byte{5}, 5000)},      // bin16, read apart from its header
	{"bytes64k", bytes.Repeat([]byte{6}, 64<<10), bytes.Repeat([]byte{6}, 64<<10)}, // bin32, written from the caller's memory
	{"bytes40k", bytes.Repeat([]byte{4}, 40<<10), bytes.Repeat([]byte{4}, 40<<10)}, // bin16 at the zero-copy size
	{"bytearray", [3]byte{1, 2, 3}, []byte{1, 2, 3}},
	{"intslice", []int{1, -2}, []any{int64(1), int64(-2)}},
	{"anyslice", []any{"a", 1, nil, []byte("x")}, []any{"a", int64(1), nil, []byte("x")}},
	{"strmap", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
	{"intmap", map[int]string{3: "c"}, map[any]any{int64(3): "c"}},
	{"nested", map[string]any{"l": []any{map[string]any{"u": uint8(1)}}}, map[string]any{"l": []any{map[string]any{"u": uint64(1)}}}},
	{"struct", point{X: 1, Y: -2, Name: "p", skip: 9}, map[string]any{"X": int64(1), "Y": int64(-2), "name": "p"}},
	{"ptr", &point{X: 3}, map[string]any{"X": int64(3), "Y": int64(0), "name": ""}},
	{"nilptr", (*point)(nil), nil},
	{"nilslice", []string(nil), nil},
}

type behaviour struct {
	name string
	cfgA Config
	cfgB Config
	run  func(t *testing.T, a, b *Session)
}

var behaviours = []behaviour{
	{name: "values", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, "values")
		for _, tc := range valueCases {
			if err := ca.Send(ctxT(t), tc.in); err != nil {
				t.Fatalf("%s: send: %v", tc.name, err)
			}
			got, err := cb.Receive(ctxT(t))
			if err != nil {
				t.Fatalf("%s: receive: %v", tc.name, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: sent %#v, received %#v (%T), want %#v (%T)", tc.name, tc.in, got, got, tc.want, tc.want)
			}
		}
	}},
	{name: "open_request_and_hello", cfgA: Config{Hello: map[string]any{"v": "ctl"}}, cfgB: Config{Hello: "worker-1"}, run: func(t *testing.T, a, b *Session) {
		if got := a.PeerHello(); got != "worker-1" {
			t.Errorf("a.PeerHello = %#v", got)
		}
		if got := b.PeerHello(); !reflect.DeepEqual(got, map[string]any{"v": "ctl"}) {
			t.Errorf("b.PeerHello = %#v", got)
		}
		ca, err := a.Open(ctxT(t), map[string]any{"exec": "x := 1", "n": 3})
		if err != nil {
			t.Fatal(err)
		}
		cb, req, err := b.Accept(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"exec": "x := 1", "n": int64(3)}; !reflect.DeepEqual(req, want) {
			t.Errorf("req = %#v, want %#v", req, want)
		}
		if ca.ID()%2 != 1 || cb.ID() != ca.ID() {
			t.Errorf("ids %d/%d, want the same odd id", ca.ID(), cb.ID())
		}
	}},
	{name: "either_side_opens", run: func(t *testing.T, a, b *Session) {
		cb, ca := openPair(t, b, a, nil)
		if cb.ID()%2 != 0 {
			t.Errorf("worker-opened id %d is odd", cb.ID())
		}
		mustSend(t, ca, "ping")
		mustReceive(t, cb, "ping")
		mustSend(t, cb, "pong")
		mustReceive(t, ca, "pong")
	}},
	{name: "many_channels", run: func(t *testing.T, a, b *Session) {
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		wg.Add(1)
		go func() { // echo server on b
			defer wg.Done()
			for range n {
				c, _, err := b.Accept(ctxT(t))
				if err != nil {
					errs <- err
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for v, err := range c.All(context.Background()) {
						if err != nil {
							errs <- err
							return
						}
						if err := c.Send(context.Background(), v); err != nil {
							errs <- err
							return
						}
					}
					c.Close()
				}()
			}
		}()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := a.Open(ctxT(t), i)
				if err != nil {
					errs <- err
					return
				}
				for j := range 20 {
					want := fmt.Sprintf("%d/%d", i, j)
					if err := c.Send(ctxT(t), want); err != nil {
						errs <- err
						return
					}
					got, err := c.Receive(ctxT(t))
					if err != nil || got != want {
						errs <- fmt.Errorf("channel %d: got %v, %v; want %s", c.ID(), got, err, want)
						return
					}
				}
				c.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		waitFor(t, func() bool { return a.NumChannels() == 0 && b.NumChannels() == 0 })
	}},
	{name: "close_eof", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		for i := range 3 {
			mustSend(t, ca, i)
		}
		if err := ca.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ca.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for i := range 3 {
			mustReceive(t, cb, int64(i))
		}
		if _, err := cb.Receive(ctxT(t)); err != io.EOF {
			t.Fatalf("receive after close: %v, want io.EOF", err)
		}
		if err := cb.Wait(ctxT(t)); err != nil {
			t.Fatalf("wait: %v", err)
		}
		if !cb.IsClosed() || !ca.IsClosed() {
			t.Error("IsClosed false after close")
		}
		if err := cb.Send(ctxT(t), 1); !errors.Is(err, ErrClosed) {
			t.Errorf("send on peer-closed channel: %v, want ErrClosed", err)
		}
		if err := ca.Send(ctxT(t), 1); !errors.Is(err, ErrClosed) {
			t.Errorf("send on closed channel: %v, want ErrClosed", err)
		}
		if _, err := ca.Receive(ctxT(t)); !errors.Is(err, ErrClosed) {
			t.Errorf("receive on closed channel: %v, want ErrClosed", err)
		}
		waitFor(t, func() bool { return a.NumChannels() == 0 && b.NumChannels() == 0 })
	}},
	{name: "remote_error", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		mustSend(t, cb, "partial")
		if err := cb.CloseWithError(errors.New("boom: x/y.go:3")); err != nil {
			t.Fatal(err)
		}
		mustReceive(t, ca, "partial")
		_, err := ca.Receive(ctxT(t))
		var re *RemoteError
		if !errors.As(err, &re) || re.Message != "boom: x/y.go:3" || re.Stack == "" {
			t.Fatalf("receive: %#v, want *RemoteError boom with stack", err)
		}
		if err := ca.Wait(ctxT(t)); !errors.As(err, &re) {
			t.Fatalf("wait: %v", err)
		}
		c2a, c2b := openPair(t, a, b, nil)
		c2b.CloseWithError(&RemoteError{Message: "m", Where: "w.go:1", Stack: "s"})
		if err := c2a.Wait(ctxT(t)); !errors.As(err, &re) || *re != (RemoteError{"m", "w.go:1", "s"}) {
			t.Fatalf("wait: %#v", err)
		}
	}},
	{name: "callback_endmarker", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		mustSend(t, ca, 1)
		mustSend(t, ca, 2)
		waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(cb.queue) == 2 })
		var mu sync.Mutex
		var got []any
		ends := make(chan error, 2)
		if err := cb.SetCallback(func(v any) { mu.Lock(); got = append(got, v); mu.Unlock() }, func(err error) { ends <- err }); err != nil {
			t.Fatal(err)
		}
		if err := cb.SetCallback(nil, nil); !errors.Is(err, ErrCallbackSet) {
			t.Errorf("second SetCallback: %v", err)
		}
		mustSend(t, ca, 3)
		ca.Close()
		if err := <-ends; err != nil {
			t.Fatalf("end callback: %v, want nil", err)
		}
		mu.Lock()
		if want := []any{int64(1), int64(2), int64(3)}; !reflect.DeepEqual(got, want) {
			t.Errorf("items %v, want %v", got, want)
		}
		mu.Unlock()
		if _, err := cb.Receive(ctxT(t)); !errors.Is(err, ErrCallbackSet) {
			t.Errorf("receive with callback: %v", err)
		}
		select {
		case err := <-ends:
			t.Errorf("end called twice (%v)", err)
		case <-time.After(20 * time.Millisecond):
		}
		// remote error reaches the end callback
		c2a, c2b := openPair(t, a, b, nil)
		end2 := make(chan error, 1)
		c2a.SetCallback(nil, func(err error) { end2 <- err })
		c2b.CloseWithError(errors.New("bad"))
		var re *RemoteError
		if err := <-end2; !errors.As(err, &re) || re.Message != "bad" {
			t.Errorf("end: %v", err)
		}
	}},
	{name: "timeouts", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		start := time.Now()
		_, err := cb.ReceiveTimeout(20 * time.Millisecond)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("receive timeout: %v", err)
		}
		if d := time.Since(start); d < 20*time.Millisecond || d > 5*time.Second {
			t.Errorf("timeout after %v", d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if _, err := ca.Get(ctx, "nope"); !errors.Is(err, ErrTimeout) {
			t.Errorf("get timeout: %v", err)
		}
		if err := ca.Wait(ctx); !errors.Is(err, ErrTimeout) {
			t.Errorf("wait timeout: %v", err)
		}
		if _, _, err := a.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("accept timeout: %v", err)
		}
		cctx, ccancel := context.WithCancel(context.Background())
		ccancel()
		if _, err := cb.Receive(cctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Errorf("cancelled receive: %v", err)
		}
		mustSend(t, ca, "still works")
		mustReceive(t, cb, "still works")
	}},
	{name: "set_get_ignore", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		if err := ca.Set("portrange", []int{7770, 7800}); err != nil {
			t.Fatal(err)
		}
		v, err := cb.Get(ctxT(t), "portrange")
		if err != nil || !reflect.DeepEqual(v, []any{int64(7770), int64(7800)}) {
			t.Fatalf("get: %#v, %v", v, err)
		}
		if v, err := ca.Get(ctxT(t), "portrange"); err != nil || v == nil {
			t.Fatalf("local get: %v, %v", v, err)
		}
		got := make(chan any, 1)
		go func() {
			v, err := ca.GetIgnore(ctxT(t), "listenport", nil)
			if err != nil {
				v = err
			}
			got <- v
		}()
		cb.Set("listenport", nil)
		time.Sleep(10 * time.Millisecond)
		cb.Set("listenport", 7771)
		if v := <-got; v != int64(7771) {
			t.Fatalf("GetIgnore: %#v", v)
		}
		cb.Close()
		if _, err := ca.Get(ctxT(t), "never"); err == nil {
			t.Fatal("get on closed channel: no error")
		}
		if err := ca.Set("x", func() {}); !errors.As(err, new(*UnsupportedTypeError)) {
			t.Errorf("set func: %v", err)
		}
	}},
	{name: "subscribe_order", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		var mu sync.Mutex
		var log []string
		add := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
		s1 := cb.Subscribe(func(v any) { add(fmt.Sprint("1:", v)) }, func(n string, v any) { add(fmt.Sprint("1:", n, "=", v)) })
		cb.Subscribe(func(v any) { add(fmt.Sprint("2:", v)) }, nil)
		mustSend(t, ca, "x")
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 2 })
		ca.Set("k", "v")
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 3 })
		cb.Unsubscribe(s1)
		mustSend(t, ca, "y")
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 4 })
		mu.Lock()
		defer mu.Unlock()
		want := []string{"1:x", "2:x", "1:k=v", "2:y"}
		if !reflect.DeepEqual(log, want) {
			t.Errorf("callbacks ran %q, want %q", log, want)
		}
	}},
	{name: "channel_over_channel", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		nc, err := a.NewChannel()
		if err != nil {
			t.Fatal(err)
		}
		mustSend(t, ca, map[string]any{"reply": nc})
		v, err := cb.Receive(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		rc, ok := v.(map[string]any)["reply"].(*Channel)
		if !ok || rc.ID() != nc.ID() || rc.Session() != b {
			t.Fatalf("received %#v, want *Channel %d of b", v, nc.ID())
		}
		mustSend(t, rc, "via new channel")
		mustReceive(t, nc, "via new channel")
		// a worker-side channel sent back arrives as the same object
		wc, _ := b.NewChannel()
		mustSend(t, cb, wc)
		v, _ = ca.Receive(ctxT(t))
		back := v.(*Channel)
		mustSend(t, cb, wc)
		if v, _ := ca.Receive(ctxT(t)); v != back {
			t.Errorf("same id decoded twice gave different objects")
		}
		// typed receive of a channel
		mustSend(t, ca, struct{ C *Channel }{nc})
		var dst struct{ C *Channel }
		if err := cb.ReceiveInto(ctxT(t), &dst); err != nil || dst.C != rc {
			t.Errorf("ReceiveInto channel: %v, %v", dst.C, err)
		}
		if _, _, err := b.Accept(ctxWithin(10 * time.Millisecond)); err == nil {
			t.Errorf("NewChannel showed up in Accept")
		}
	}},
	{name: "half_close", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		mustSend(t, ca, "last")
		if err := ca.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if err := ca.Send(ctxT(t), 1); !errors.Is(err, ErrClosed) {
			t.Errorf("send after CloseWrite: %v", err)
		}
		mustReceive(t, cb, "last")
		if _, err := cb.Receive(ctxT(t)); err != io.EOF {
			t.Fatalf("receive after half-close: %v", err)
		}
		mustSend(t, cb, "answer")
		mustReceive(t, ca, "answer")
		if ca.IsClosed() {
			t.Error("closed after half-close of one side")
		}
		cb.CloseWrite()
		if _, err := ca.Receive(ctxT(t)); err != io.EOF {
			t.Fatalf("receive: %v", err)
		}
		waitFor(t, func() bool { return a.NumChannels() == 0 && b.NumChannels() == 0 })
	}},
	{name: "unsupported_types", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		bad := []struct {
			v    any
			want string
		}{
			{func() {}, "func()"},
			{make(chan int), "chan int"},
			{complex(1, 2), "complex128"},
			{[]any{1, map[string]any{"f": func(int) {}}}, "func(int)"},
			{struct{ F func() }{}, "func()"},
			{uintptr(1), "uintptr"},
		}
		for _, tc := range bad {
			err := ca.Send(ctxT(t), tc.v)
			var ut *UnsupportedTypeError
			if !errors.As(err, &ut) || ut.Type.String() != tc.want {
				t.Errorf("send %T: %v, want UnsupportedTypeError naming %s", tc.v, err, tc.want)
			}
		}
		if _, err := a.Open(ctxT(t), func() {}); !errors.As(err, new(*UnsupportedTypeError)) {
			t.Errorf("open with func: %v", err)
		}
		mustSend(t, ca, "ok")
		mustReceive(t, cb, "ok") // nothing of the bad sends arrived
	}},
	{name: "receive_into", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		mustSend(t, ca, point{X: 4, Y: 5, Name: "n"})
		var p point
		if err := cb.ReceiveInto(ctxT(t), &p); err != nil || p != (point{X: 4, Y: 5, Name: "n"}) {
			t.Fatalf("ReceiveInto: %+v, %v", p, err)
		}
		mustSend(t, ca, []int{1, 2})
		var xs []int8
		if err := cb.ReceiveInto(ctxT(t), &xs); err != nil || !reflect.DeepEqual(xs, []int8{1, 2}) {
			t.Fatalf("ReceiveInto: %v, %v", xs, err)
		}
		if err := cb.ReceiveInto(ctxT(t), p); err == nil {
			t.Error("ReceiveInto non-pointer: no error")
		}
	}},
	{name: "session_close_fails_blocked_ops", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		errs := make(chan error, 3)
		go func() { _, err := ca.Receive(context.Background()); errs <- err }()
		go func() { errs <- ca.Wait(context.Background()) }()
		go func() { _, _, err := a.Accept(context.Background()); errs <- err }()
		time.Sleep(10 * time.Millisecond)
		a.Close()
		for range 3 {
			if err := <-errs; !errors.Is(err, ErrClosed) {
				t.Errorf("blocked op: %v, want ErrClosed", err)
			}
		}
		if err := a.Err(); err != ErrClosed {
			t.Errorf("a.Err() = %v", err)
		}
		<-b.Done()
		if err := b.Err(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("b.Err() = %v, want EOF", err)
		}
		if _, err := cb.Receive(ctxT(t)); !errors.Is(err, ErrClosed) || errors.Is(err, io.EOF) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("receive after peer vanished: %v", err)
		}
		if err := ca.Send(ctxT(t), 1); !errors.Is(err, ErrClosed) {
			t.Errorf("send after session close: %v", err)
		}
		if _, err := a.Open(ctxT(t), nil); !errors.Is(err, ErrClosed) {
			t.Errorf("open after close: %v", err)
		}
		if !ca.IsClosed() {
			t.Error("not IsClosed after session close")
		}
	}},
	{name: "shutdown_flushes", run: func(t *testing.T, a, b *Session) {
		ca, cb := openPair(t, a, b, nil)
		mustSend(t, ca, "bye")
		ca.Close()
		if err := a.Shutdown(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		mustReceive(t, cb, "bye")
		if _, err := cb.Receive(ctxT(t)); err != io.EOF {
			t.Errorf("after shutdown: %v, want io.EOF", err)
		}
	}},
}

func TestBehaviour(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		for _, bh := range behaviours {
			t.Run(bh.name, func(t *testing.T) {
				a, b := sessions(t, tr, bh.cfgA, bh.cfgB)
				bh.run(t, a, b)
			})
		}
	})
}

func mustSend(t testing.TB, c *Channel, v any) {
	t.Helper()
	if err := c.Send(ctxT(t), v); err != nil {
		t.Fatalf("send %v: %v", v, err)
	}
}

func mustReceive(t testing.TB, c *Channel, want any) {
	t.Helper()
	got, err := c.Receive(ctxT(t))
	if err != nil {
		t.Fatalf("receive: %v (want %v)", err, want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("received %#v, want %#v", got, want)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func ctxWithin(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	time.AfterFunc(2*d, cancel)
	return ctx
}
