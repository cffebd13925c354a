//go:build unix

package workers

import (
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/godist/godist/gateway"
)

func benchRemote(b *testing.B) (*gateway.Gateway, *Remote) {
	ctx := context.Background()
	gw, err := gateway.Open(ctx, gateway.Spec{Kind: gateway.KindPopen})
	if err != nil {
		b.Fatal(err)
	}
	r, err := StartRemote(ctx, gw)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close(); gw.Close() })
	return gw, r
}

// BenchmarkStartRemote is a runner's start on an open gateway, up to the
// end of its first process (remote exec returns before the worker runs the
// code).
func BenchmarkStartRemote(b *testing.B) {
	gw, _ := benchRemote(b)
	for b.Loop() {
		r, err := StartRemote(context.Background(), gw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Run(context.Background(), Request{Argv: []string{"/bin/true"}}, io.Discard); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkProcess is the cost of one process that does nothing: the
// runner's overhead per test process.
func BenchmarkProcess(b *testing.B) {
	_, remote := benchRemote(b)
	for name, r := range map[string]Runner{"local": Local{}, "remote": remote} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Run(context.Background(), Request{Argv: []string{"/bin/true"}}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkThroughput streams 64 MiB of output.
func BenchmarkThroughput(b *testing.B) {
	const n = 64 << 20
	_, remote := benchRemote(b)
	for name, r := range map[string]Runner{"local": Local{}, "remote": remote} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(n)
			for b.Loop() {
				if _, err := r.Run(context.Background(), Request{Argv: []string{"head", "-c", strconv.Itoa(n), "/dev/zero"}}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
