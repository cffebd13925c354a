package channel

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A panicking callback closes only its channel, with a *RemoteError for
// both sides; the session and other channels go on (execnet closes the
// channel with the callback's exception).
func TestCallbackPanicClosesOnlyItsChannel(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		a, b := sessions(t, tr, Config{}, Config{})
		ca, cb := openPair(t, a, b, nil)
		ends := make(chan error, 1)
		if err := cb.SetCallback(func(v any) { panic("boom in callback") }, func(err error) { ends <- err }); err != nil {
			t.Fatal(err)
		}
		mustSend(t, ca, 1)
		var re *RemoteError
		if err := <-ends; !errors.As(err, &re) || !strings.Contains(re.Message, "boom in callback") {
			t.Fatalf("end callback got %v, want the panic as *RemoteError", err)
		}
		if err := ca.Wait(ctxT(t)); !errors.As(err, &re) || !strings.Contains(re.Message, "panic in callback: boom in callback") {
			t.Errorf("peer's wait: %v", err)
		}
		if err := cb.Wait(ctxT(t)); !errors.As(err, &re) {
			t.Errorf("own wait: %v, want the *RemoteError", err)
		}
		// The session lives on.
		c2a, c2b := openPair(t, a, b, nil)
		mustSend(t, c2a, "still here")
		if v, err := c2b.Receive(ctxT(t)); v != "still here" {
			t.Errorf("other channel: %v, %v", v, err)
		}
	})
}

func TestCallbackGoexitClosesItsChannel(t *testing.T) {
	a, b := sessions(t, transports[0], Config{}, Config{})
	ca, cb := openPair(t, a, b, nil)
	cb.SetCallback(func(v any) { runtime.Goexit() }, nil)
	mustSend(t, ca, 1)
	var re *RemoteError
	if err := ca.Wait(ctxT(t)); !errors.As(err, &re) || !strings.Contains(re.Message, "Goexit") {
		t.Errorf("peer's wait: %v", err)
	}
}

// Wait returns only after the callbacks, end marker included, ran
// (execnet's waitclose).
func TestWaitAfterCallbacks(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		a, b := sessions(t, tr, Config{}, Config{})
		ca, cb := openPair(t, a, b, nil)
		var items, ended atomic.Int64
		cb.SetCallback(func(v any) {
			time.Sleep(time.Millisecond) // slow callbacks: Wait must not overtake them
			items.Add(1)
		}, func(error) {
			time.Sleep(5 * time.Millisecond)
			ended.Store(1)
		})
		for i := range 20 {
			mustSend(t, ca, i)
		}
		ca.Close()
		if err := cb.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if items.Load() != 20 || ended.Load() != 1 {
			t.Errorf("after Wait: %d items, end ran %v; want 20 and true", items.Load(), ended.Load() == 1)
		}
	})
}

// Close of the session, and Wait of the channel, from inside a callback do
// not deadlock.
func TestCloseAndWaitFromCallback(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		a, b := sessions(t, tr, Config{}, Config{})
		ca, cb := openPair(t, a, b, nil)
		done := make(chan error, 1)
		cb.SetCallback(func(v any) {
			cb.Close()
			err := cb.Wait(ctxT(t))
			b.Close()
			done <- err
		}, nil)
		mustSend(t, ca, 1)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("wait in callback: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close from a callback deadlocked")
		}
		b.Close() // from outside: waits for the callback goroutine
	})
}
