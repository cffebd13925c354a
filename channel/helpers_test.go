package channel

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// rwc joins a reader and a writer into one connection; Close closes both.
type rwc struct {
	io.Reader
	io.Writer
	closers []io.Closer
}

func (c *rwc) Close() error {
	var err error
	for _, cl := range c.closers {
		if e := cl.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

type transport struct {
	name string
	pair func(t testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser)
}

var transports = []transport{
	{"netpipe", func(t testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser) {
		a, b := net.Pipe()
		return a, b
	}},
	{"ospipe", osPipePair},
	{"tcp", tcpPair},
}

func osPipePair(t testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser) {
	r1, w1, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	return &rwc{r1, w2, []io.Closer{r1, w2}}, &rwc{r2, w1, []io.Closer{r2, w1}}
}

func tcpPair(t testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return a, r.c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sessions makes a connected initiator/worker session pair over tr.
func sessions(t testing.TB, tr transport, ca, cb Config) (*Session, *Session) {
	t.Helper()
	x, y := tr.pair(t)
	ca.Initiator = true
	cb.Initiator = false
	type res struct {
		s   *Session
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := NewSession(context.Background(), y, cb)
		ch <- res{s, err}
	}()
	a, err := NewSession(ctxT(t), x, ca)
	r := <-ch
	if err != nil || r.err != nil {
		if a != nil {
			a.Close()
		}
		if r.s != nil {
			r.s.Close()
		}
		t.Fatalf("NewSession: %v / %v", err, r.err)
	}
	t.Cleanup(func() { a.Close(); r.s.Close() })
	return a, r.s
}

// openPair opens a channel from a and accepts it on b.
func openPair(t testing.TB, a, b *Session, req any) (*Channel, *Channel) {
	t.Helper()
	ca, err := a.Open(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	cb, got, err := b.Accept(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if cb.ID() != ca.ID() {
		t.Fatalf("accepted channel %d, opened %d (req %v)", cb.ID(), ca.ID(), got)
	}
	return ca, cb
}

func forEachTransport(t *testing.T, f func(t *testing.T, tr transport)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { f(t, tr) })
	}
}
