//go:build unix

package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

// wantRemoteError checks that err is a *channel.RemoteError containing msg.
func wantRemoteError(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var re *channel.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, msg) {
		t.Errorf("%s: %v, want a *channel.RemoteError with %q", what, err, msg)
	}
}

// stillServes checks the worker survived.
func stillServes(t *testing.T, g *Gateway) {
	t.Helper()
	if err := g.RemoteExecSync(ctxT(t), `channel.Send(1)`); err != nil {
		t.Errorf("worker after the failure: %v", err)
	}
}

// A panic in a channel callback or a time.AfterFunc func of remote code
// closes that execution's channel with a RemoteError, and the worker goes
// on; so does runtime.Goexit in main.
func TestRemoteCallbackFailures(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)

		ch, err := g.RemoteExec(ctx, `import "godist"
raw := channel.Raw()
raw.SetCallback(func(v any) { panic("callback boom") }, nil)
raw.Wait(godist.Context())`)
		if err != nil {
			t.Fatal(err)
		}
		ch.Send(ctx, 1)
		wantRemoteError(t, "callback panic: wait", ch.Wait(ctx), "callback boom")

		ch, err = g.RemoteExec(ctx, `import "time"
time.AfterFunc(time.Millisecond, func() { panic("timer boom") })
channel.Receive()`)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ch.Receive(ctx)
		wantRemoteError(t, "AfterFunc panic: receive", err, "timer boom")

		ch, err = g.RemoteExec(ctx, `import "runtime"
channel.Send("before")
runtime.Goexit()
channel.Send("after")`)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := ch.Receive(ctx); v != "before" {
			t.Fatalf("got %v, %v", v, err)
		}
		_, err = ch.Receive(ctx)
		wantRemoteError(t, "Goexit: receive", err, "Goexit")
		wantRemoteError(t, "Goexit: wait", ch.Wait(ctx), "Goexit")
		stillServes(t, g)
	})
}

// Exit called from a callback of one of the gateway's channels returns,
// bounded by its context.
func TestExitFromCallback(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ch, err := g.RemoteExec(ctxT(t), `channel.Send(1); channel.Receive()`)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		ch.SetCallback(func(any) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			done <- g.Exit(ctx)
		}, nil)
		select {
		case err := <-done:
			// The execution keeps the worker busy: Exit may have to kill it.
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("exit from callback: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Exit from a callback deadlocked")
		}
		if err := ch.Wait(ctxT(t)); err == nil {
			t.Log("channel closed cleanly")
		}
	})
}

func TestCloseFromCallback(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ch, err := g.RemoteExec(ctxT(t), `channel.Send(1); channel.Receive()`)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		ch.SetCallback(func(any) { done <- g.Close() }, nil)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Close from a callback deadlocked")
		}
	})
}
