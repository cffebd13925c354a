package channel

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// TestFlowControl: a fast sender blocks once the receiver's window is full
// (instead of growing its memory) and a stalled channel does not stall
// another channel of the session.
func TestFlowControl(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		const window = 8 << 10
		a, b := sessions(t, tr, Config{}, Config{Window: window})
		slowA, slowB := openPair(t, a, b, "slow")
		fastA, fastB := openPair(t, a, b, "fast")
		val := make([]byte, 1000)
		sent := 0
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			err := slowA.Send(ctx, val)
			cancel()
			if errors.Is(err, ErrTimeout) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if sent++; sent > 100 {
				t.Fatal("sender never blocked")
			}
		}
		b.mu.Lock()
		queued := 0
		for _, it := range slowB.queue {
			for _, c := range it.chunks {
				queued += len(c)
			}
		}
		b.mu.Unlock()
		if queued > window {
			t.Errorf("receiver holds %d bytes, window %d", queued, window)
		}
		t.Logf("sender blocked after %d values, %d bytes queued", sent, queued)
		// the other channel is not stalled, both ways
		for i := range 100 {
			mustSend(t, fastA, i)
			mustReceive(t, fastB, int64(i))
			mustSend(t, fastB, i)
			mustReceive(t, fastA, int64(i))
		}
		// consuming unblocks the sender
		done := make(chan error, 1)
		go func() {
			for range 20 {
				if err := slowA.Send(context.Background(), val); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for range sent + 20 {
			mustReceive(t, slowB, val)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestLargeValues: values far bigger than a frame and than the window.
func TestLargeValues(t *testing.T) {
	sizes := []int{300 << 10, 64 << 20}
	if !testing.Short() {
		sizes = append(sizes, 300<<20)
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			a, b := sessions(t, tr, Config{}, Config{Window: 256 << 10})
			ca, cb := openPair(t, a, b, nil)
			for _, n := range sizes {
				if n > 64<<20 && tr.name != "ospipe" {
					continue // one transport is enough for the biggest
				}
				v := make([]byte, n)
				for i := 0; i < n; i += 4096 {
					v[i] = byte(i / 4096)
				}
				errc := make(chan error, 1)
				go func() { errc <- ca.Send(context.Background(), v) }()
				got, err := cb.Receive(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				if gb, ok := got.([]byte); !ok || !bytes.Equal(gb, v) {
					t.Fatalf("%d bytes: received %T of different content", n, got)
				}
			}
			// typed receive of a fragmented value
			big := bytes.Repeat([]byte("typed"), 200000)
			mustSend(t, ca, map[string]any{"B": big, "N": 7})
			var dst struct {
				B []byte
				N int
			}
			if err := cb.ReceiveInto(ctxT(t), &dst); err != nil || !bytes.Equal(dst.B, big) || dst.N != 7 {
				t.Fatalf("ReceiveInto fragmented: N=%d len=%d err=%v", dst.N, len(dst.B), err)
			}
			// a big string and a big []any go through as well
			s := string(bytes.Repeat([]byte("x"), 1<<20))
			mustSend(t, cb, []any{s, s})
			mustReceive(t, ca, []any{s, s})
		})
	}
}

// TestAbortMidValue: a Send whose context ends mid-value drops the
// fragments already sent; the next value arrives intact.
func TestAbortMidValue(t *testing.T) {
	a, b := sessions(t, transports[0], Config{}, Config{Window: 4 << 10})
	ca, cb := openPair(t, a, b, nil)
	mustSend(t, ca, "first") // queued, not consumed: big values now wait for credit
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err := ca.Send(ctx, make([]byte, 1<<20))
	cancel()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("send: %v", err)
	}
	mustReceive(t, cb, "first")
	mustSend(t, ca, "second")
	mustReceive(t, cb, "second")
}

// TestBlockedSendReleased: a Send waiting for credit returns ErrClosed when
// its channel or its session is closed.
func TestBlockedSendReleased(t *testing.T) {
	for _, viaSession := range []bool{false, true} {
		a, b := sessions(t, transports[1], Config{}, Config{Window: 4 << 10})
		ca, _ := openPair(t, a, b, nil)
		mustSend(t, ca, "unread") // from now on a big value waits for credit
		errc := make(chan error, 1)
		go func() { errc <- ca.Send(context.Background(), make([]byte, 1<<20)) }()
		time.Sleep(20 * time.Millisecond)
		select {
		case err := <-errc:
			t.Fatalf("send returned early: %v", err)
		default:
		}
		if viaSession {
			a.Close()
		} else {
			ca.Close()
		}
		select {
		case err := <-errc:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("blocked send: %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("blocked send not released")
		}
	}
}
