//go:build unix

package gateway

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkPopenStartup measures a popen gateway from Open to ready (the
// handshake done), plus its Exit.
func BenchmarkPopenStartup(b *testing.B) {
	ctx := context.Background()
	spec := Spec{Kind: KindPopen, Raw: "popen"}
	var open time.Duration
	for b.Loop() {
		start := time.Now()
		g, err := Open(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		open += time.Since(start)
		if err := g.Exit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(open.Microseconds())/float64(b.N)/1000, "ms-to-ready")
}

func benchGateways(b *testing.B) map[string]*Gateway {
	return map[string]*Gateway{"pipe": openPipe(b, ""), "popen": openSpec(b, "popen")}
}

// BenchmarkRemoteExecRoundTrip runs a tiny execution and waits for its value.
func BenchmarkRemoteExecRoundTrip(b *testing.B) {
	for name, g := range benchGateways(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				ch, err := g.RemoteExec(ctx, `channel.Send(1)`)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ch.Receive(ctx); err != nil {
					b.Fatal(err)
				}
				if err := ch.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChannelRoundTrip: one value to an echoing execution and back.
func BenchmarkChannelRoundTrip(b *testing.B) {
	for name, g := range benchGateways(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			ch, err := g.RemoteExec(ctx, "for {\n\tv, err := channel.Receive()\n\tif err != nil {\n\t\tbreak\n\t}\n\tchannel.Send(v)\n}")
			if err != nil {
				b.Fatal(err)
			}
			defer ch.Close()
			for b.Loop() {
				if err := ch.Send(ctx, int64(1)); err != nil {
					b.Fatal(err)
				}
				if _, err := ch.Receive(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Benchmark1000Channels keeps 1000 channels open at once on one popen
// gateway: 1000 concurrent info requests, and 1000 concurrent executions.
func Benchmark1000Channels(b *testing.B) {
	g := openSpec(b, "popen")
	ctx := context.Background()
	b.Run("info", func(b *testing.B) {
		for b.Loop() {
			var wg sync.WaitGroup
			for range 1000 {
				wg.Go(func() {
					if _, err := g.Info(ctx); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
	b.Run("exec", func(b *testing.B) {
		for b.Loop() {
			var wg sync.WaitGroup
			for range 1000 {
				wg.Go(func() {
					ch, err := g.RemoteExec(ctx, `v, _ := channel.Receive(); channel.Send(v)`)
					if err != nil {
						b.Error(err)
						return
					}
					if err := ch.Send(ctx, "x"); err != nil {
						b.Error(err)
						return
					}
					if _, err := ch.Receive(ctx); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
}
