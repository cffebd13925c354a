package gateway

import (
	"context"
	"net"
	"testing"

	"github.com/godist/godist/channel"
)

func TestDbg(t *testing.T) {
	a, b := net.Pipe()
	ctx := context.Background()
	done := make(chan *channel.Session)
	go func() {
		s, err := channel.NewSession(ctx, b, channel.Config{})
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	sa, err := channel.NewSession(ctx, a, channel.Config{Initiator: true})
	if err != nil {
		t.Fatal(err)
	}
	sb := <-done
	ch, _ := sa.Open(ctx, "x")
	rc, _, _ := sb.Accept(ctx)
	go func() {
		for {
			v, err := rc.Receive(ctx)
			if err != nil {
				return
			}
			t.Logf("worker got %v", v)
			rc.Send(ctx, v)
		}
	}()
	ch.Send(ctx, 1)
	v, err := ch.ReceiveTimeout(2e9)
	t.Logf("%v %v", v, err)
	sa.Close()
	sb.Close()
}
