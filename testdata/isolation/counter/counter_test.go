// Package counter hands each test the next 127.0.0.N address from a
// package-level counter, as hashicorp/memberlist's tests do, on one fixed
// port. In one process every test gets an address of its own; two
// processes both start the counter at 127.0.0.10 and collide, unless each
// has a network namespace of its own.
package counter

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"example.com/fixture/isolation/internal/hold"
)

const port = 47614

var (
	mu   sync.Mutex
	next = 10
)

func testAddr() string {
	mu.Lock()
	defer mu.Unlock()
	ip := net.IPv4(127, 0, 0, byte(next))
	next++
	return net.JoinHostPort(ip.String(), strconv.Itoa(port))
}

func node(t *testing.T) {
	addr := testAddr()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Logf("node on %s", addr)
	time.Sleep(hold.Duration())
}

func TestNodeA(t *testing.T) { node(t) }
func TestNodeB(t *testing.T) { node(t) }
func TestNodeC(t *testing.T) { node(t) }
