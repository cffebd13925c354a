//go:build unix

package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

// rawFrame is a channel frame (channel/PROTOCOL.md), made by hand.
func rawFrame(typ, flags byte, id uint64, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload))
	b[0], b[1] = typ, flags
	binary.BigEndian.PutUint32(b[4:8], uint32(len(payload)))
	binary.BigEndian.PutUint64(b[8:16], id)
	return append(b, payload...)
}

// rawHandshake is a channel preamble and HELLO with a gateway hello
// {"requests": RequestVersion}.
func rawHandshake() []byte {
	hello := []byte{0x83, 0xa6}
	hello = append(hello, "window"...)
	hello = append(hello, 0xce, 0, 0x10, 0, 0, 0xa8)
	hello = append(hello, "maxframe"...)
	hello = append(hello, 0xce, 0, 4, 0, 0, 0xa5)
	hello = append(hello, "hello"...)
	hello = append(hello, 0x81, 0xa8)
	hello = append(hello, "requests"...)
	hello = append(hello, byte(RequestVersion))
	return append(append([]byte("GODISTCH"), 0, 1), rawFrame(1, 0, 0, hello)...)
}

// TestFakeWorkerOpenFlood: a fake worker that answers the handshake and
// then sends OPEN frames that never finish is cut off by the controller's
// session at MaxOpenBytes; the gateway ends with the *channel.LimitError.
func TestFakeWorkerOpenFlood(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- 0
			return
		}
		defer c.Close()
		go io.Copy(io.Discard, c)
		chunk := rawFrame(2, 1, 2, bytes.Repeat([]byte{0xa1}, 200<<10)) // OPEN, MORE, channel 2 (worker parity)
		var sent int64
		_, err = c.Write(rawHandshake())
		for err == nil && sent < 1<<30 {
			_, err = c.Write(chunk)
			sent += int64(len(chunk))
		}
		done <- sent
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	g, err := OpenConn(ctxT(t), Spec{Kind: KindSocket, ID: "fake"}, c)
	if err == nil {
		defer g.Close()
		select {
		case <-g.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the controller kept the fake worker's session")
		}
		err = g.Err()
	}
	var le *channel.LimitError
	if !errors.As(err, &le) || le.Limit != "MaxOpenBytes" {
		t.Fatalf("controller ended with %v, want a *channel.LimitError for MaxOpenBytes", err)
	}
	sent := <-done
	t.Logf("%v after the fake worker sent %d MiB", err, sent>>20)
	if sent >= 1<<30 {
		t.Error("the controller read 1 GiB of unfinished requests")
	}
}
