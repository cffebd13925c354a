// Package fixedport's tests each run a server on one fixed loopback port,
// as many suites do: fine one at a time, "address already in use" when two
// processes of the package run at the same time, unless each has a
// network namespace of its own.
package fixedport

import (
	"io"
	"net"
	"testing"
	"time"

	"example.com/fixture/isolation/internal/hold"
)

const addr = "127.0.0.1:47613"

func serve(t *testing.T) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "hello\n")
			c.Close()
		}
	}()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hello\n" {
		t.Fatalf("read %q, %v", b, err)
	}
	time.Sleep(hold.Duration())
}

func TestServerA(t *testing.T) { serve(t) }
func TestServerB(t *testing.T) { serve(t) }
