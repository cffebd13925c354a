package gateway_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/godist/godist/gateway"
)

// The seed's example: a popen gateway starts a socket server on a free port
// from a range given with Set, reports the port with Set, and a socket
// gateway connects to it.
func ExampleGateway_socketServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A child process; in a program calling gateway.MainIfWorker first (like
	// godist, or this test binary) the worker is the program itself.
	proxy, err := gateway.Open(ctx, gateway.Spec{Kind: gateway.KindPopen, ID: "proxy"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer proxy.Exit(ctx)

	ch, err := proxy.RemoteExec(ctx, `
import "fmt"
import "net"
import "godist"

pr, _ := channel.Get("portrange")
r := pr.([]any)
for port := r[0].(int64); port < r[1].(int64); port++ {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		continue
	}
	godist.ServeListener(ln) // serves until the proxy gateway ends
	channel.Set("listenport", port)
	return
}
channel.Set("listenport", nil)
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	lo := 7770
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		lo = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	ch.Set("portrange", []int{lo, lo + 30})
	port, err := ch.Get(ctx, "listenport")
	if err != nil || port == nil {
		fmt.Println("could not set up the remote socket server", err)
		return
	}

	specs, _ := gateway.ParseSpec(fmt.Sprintf("socket=127.0.0.1:%d//id=sock", port))
	sock, err := gateway.Open(ctx, specs[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sock.Exit(ctx)
	fmt.Println("initialized socket gateway", sock.ID())

	rc, _ := sock.RemoteExec(ctx, `channel.Send("hello via the socket")`)
	v, err := rc.Receive(ctx)
	fmt.Println(v, err)
	// Output:
	// initialized socket gateway sock
	// hello via the socket <nil>
}
