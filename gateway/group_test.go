//go:build unix

package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

func groupSpecs(t *testing.T) []Spec {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, t.Logf)
	specs, err := ParseSpecs([]string{"2*popen", "socket=" + addr, "exec=exec '" + exe + "'", "popen//id=named"})
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func TestGroup(t *testing.T) {
	gr, err := NewGroup(ctxT(t), groupSpecs(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gr.Exit(ctx); err != nil {
			t.Errorf("group exit: %v", err)
		}
		for _, g := range gr.Gateways() {
			if g.cmd != nil && g.cmd.ProcessState == nil {
				t.Errorf("%s not reaped", g.ID())
			}
		}
	}()
	var ids []string
	for _, g := range gr.Gateways() {
		ids = append(ids, g.ID())
	}
	want := []string{"gw0", "gw1", "gw2", "gw3", "named"}
	if !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if gr.Gateway("named") == nil || gr.Gateway("nope") != nil {
		t.Error("Gateway lookup by id")
	}
	ctx := ctxT(t)

	// Send to each, receive from each.
	mc, err := gr.RemoteExec(ctx, "import \"godist\"\nv, _ := channel.Receive()\nchannel.Send(godist.ID() + \":\" + v.(string))")
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Send(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	got, err := mc.ReceiveEach(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != want[i]+":hi" {
			t.Errorf("from %s: %v", want[i], v)
		}
	}
	if err := mc.Wait(ctx); err != nil {
		t.Errorf("wait: %v", err)
	}

	// The merged queue: values tagged with their gateway, and how each ended.
	mc, err = gr.RemoteExec(ctx, `import "godist"
channel.Send(godist.ID())
channel.Send(int64(2))
if godist.ID() == "gw1" {
	panic("gw1 fails")
}`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := mc.Merge()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]any{}
	ends := map[string]error{}
	for {
		it, err := q.Receive(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.End {
			if _, dup := ends[it.GatewayID]; dup {
				t.Errorf("%s ended twice", it.GatewayID)
			}
			ends[it.GatewayID] = it.Err
			continue
		}
		if _, ended := ends[it.GatewayID]; ended {
			t.Errorf("%s: value after end", it.GatewayID)
		}
		values[it.GatewayID] = append(values[it.GatewayID], it.Value)
	}
	for _, id := range want {
		if v := values[id]; len(v) != 2 || v[0] != id || v[1] != int64(2) {
			t.Errorf("%s sent %v", id, v)
		}
		err, ok := ends[id]
		var re *channel.RemoteError
		switch {
		case !ok:
			t.Errorf("%s: no end item", id)
		case id == "gw1" && !errors.As(err, &re):
			t.Errorf("gw1 ended with %v, want a remote error", err)
		case id != "gw1" && err != nil:
			t.Errorf("%s ended with %v", id, err)
		}
	}
}

func TestGroupOpenFailureClosesOthers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	specs, err := ParseSpecs([]string{"2*popen", "socket=" + dead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewGroup(ctxT(t), specs); err == nil {
		t.Fatal("group with a dead socket: no error")
	}
	// goleak in TestMain checks the reapers of the popen gateways ended.
}

func TestGroupDuplicateIDs(t *testing.T) {
	specs, _ := ParseSpecs([]string{"popen//id=a", "popen//id=a"})
	if _, err := NewGroup(ctxT(t), specs); err == nil {
		t.Error("duplicate ids: no error")
	}
}

// The seed's example: a popen gateway whose remote code starts a socket
// server on a free port from a range, then a socket gateway connects to it.
func TestSeedSocketServerExample(t *testing.T) {
	out, err := socketServerExample(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if out != "hello from the socket gateway" {
		t.Errorf("got %q", out)
	}
}

const socketServerBootstrap = `import "fmt"
import "net"
import "godist"

pr, err := channel.Get("portrange")
if err != nil {
	panic(err)
}
r := pr.([]any)
for port := r[0].(int64); port < r[1].(int64); port++ {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		continue
	}
	godist.ServeListener(ln)
	channel.Set("listenport", port)
	return
}
channel.Set("listenport", nil)
`

func socketServerExample(ctx context.Context) (string, error) {
	// Open a gateway to a fresh child process.
	proxy, err := Open(ctx, Spec{Kind: KindPopen, ID: "proxy", Raw: "popen"})
	if err != nil {
		return "", err
	}
	defer proxy.Exit(ctx)

	// Run the bootstrap asynchronously and send it a port range.
	ch, err := proxy.RemoteExec(ctx, socketServerBootstrap)
	if err != nil {
		return "", err
	}
	lo := freePort()
	if err := ch.Set("portrange", []int{lo, lo + 30}); err != nil {
		return "", err
	}
	port, err := ch.Get(ctx, "listenport")
	if err != nil {
		return "", err
	}
	if port == nil {
		return "", errors.New("could not set up the remote socket server")
	}

	// Open another gateway to the freshly started socket server.
	spec, err := ParseSpec(fmt.Sprintf("socket=127.0.0.1:%d//id=sock", port))
	if err != nil {
		return "", err
	}
	sock, err := Open(ctx, spec[0])
	if err != nil {
		return "", err
	}
	defer sock.Exit(ctx)
	rc, err := sock.RemoteExec(ctx, `channel.Send("hello from the socket gateway")`)
	if err != nil {
		return "", err
	}
	v, err := rc.Receive(ctx)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// freePort returns a port that was free a moment ago.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 20000
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Group exit is bounded by one context: a hung worker is killed, the others
// exit politely (execnet's Group.terminate(timeout)).
func TestGroupExitKillsHung(t *testing.T) {
	specs, _ := ParseSpecs([]string{"3*popen"})
	gr, err := NewGroup(ctxT(t), specs)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := gr.Gateway("gw1").RemoteExec(ctxT(t), "import \"godist\"\ngodist.Go(func() { select {} })\nchannel.Send(1)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Receive(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = gr.Exit(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gw1") {
		t.Errorf("group exit: %v, want gw1 killed on deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("group exit took %v", d)
	}
	for _, g := range gr.Gateways() {
		if g.cmd.ProcessState == nil {
			t.Errorf("%s not reaped", g.ID())
		}
		if g.ID() != "gw1" && g.Err() != nil {
			t.Errorf("%s: %v", g.ID(), g.Err())
		}
	}
}

func TestMultiChannelCloseAndQueueContext(t *testing.T) {
	specs, _ := ParseSpecs([]string{"2*popen"})
	gr, err := NewGroup(ctxT(t), specs)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	ctx := ctxT(t)
	mc, err := gr.RemoteExec(ctx, `channel.Receive()`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := mc.Merge()
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := q.Receive(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("receive on an idle queue: %v, want deadline exceeded", err)
	}
	if _, err := mc.Channels()[0].Receive(ctx); !errors.Is(err, channel.ErrCallbackSet) {
		t.Errorf("receive after merge: %v, want ErrCallbackSet", err)
	}
	mc.Close()
	ends := 0
	for {
		it, err := q.Receive(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.End {
			ends++
		}
	}
	if ends != 2 {
		t.Errorf("%d end items, want 2", ends)
	}
	if err := gr.Close(); err != nil {
		t.Error(err)
	}
	for _, g := range gr.Gateways() {
		if !errors.Is(g.Err(), ErrClosed) || g.cmd.ProcessState == nil {
			t.Errorf("%s after Close: %v, %v", g.ID(), g.Err(), g.cmd.ProcessState)
		}
	}
}
