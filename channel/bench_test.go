package channel

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
)

// Benchmarks compare the channel layer with the same measure on a raw
// os.Pipe pair in the same run.

func BenchmarkRoundTrip(b *testing.B) {
	b.Run("raw-ospipe", func(b *testing.B) {
		x, y := osPipePair(b)
		defer x.Close()
		defer y.Close()
		go func() { // echo
			buf := make([]byte, 8)
			for {
				if _, err := io.ReadFull(y, buf); err != nil {
					return
				}
				if _, err := y.Write(buf); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, 8)
		b.ResetTimer()
		for range b.N {
			x.Write(buf)
			if _, err := io.ReadFull(x, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("channel-ospipe", func(b *testing.B) {
		a, w := sessions(b, transport{"ospipe", osPipePair}, Config{}, Config{})
		ca, cb := openPair(b, a, w, nil)
		ctx := context.Background()
		go func() {
			for {
				v, err := cb.Receive(ctx)
				if err != nil {
					return
				}
				if cb.Send(ctx, v) != nil {
					return
				}
			}
		}()
		b.ResetTimer()
		for i := range b.N {
			if err := ca.Send(ctx, int64(i)); err != nil {
				b.Fatal(err)
			}
			if _, err := ca.Receive(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		ca.Close()
	})
}

const bulkSize = 64 << 10

func BenchmarkThroughput(b *testing.B) {
	b.Run("raw-ospipe", func(b *testing.B) {
		x, y := osPipePair(b)
		defer y.Close()
		done := make(chan int64)
		go func() {
			n, _ := io.Copy(io.Discard, y)
			done <- n
		}()
		buf := make([]byte, bulkSize)
		b.SetBytes(bulkSize)
		b.ResetTimer()
		for range b.N {
			if _, err := x.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		x.Close()
		<-done
	})
	// The same, but the reader makes a fresh buffer per 64 KiB read, as a
	// receiver of []byte values must: the cost of the value model.
	b.Run("raw-ospipe-alloc", func(b *testing.B) {
		x, y := osPipePair(b)
		defer y.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				p := make([]byte, bulkSize)
				if _, err := io.ReadFull(y, p); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, bulkSize)
		b.SetBytes(bulkSize)
		b.ResetTimer()
		for range b.N {
			if _, err := x.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		x.Close()
		<-done
	})
	for _, window := range []int{DefaultWindow, 4 << 20} {
		b.Run(fmt.Sprintf("channel-ospipe-window%dk", window>>10), func(b *testing.B) { benchBulk(b, window, "") })
	}
	// The receiver gives each value back with Recycle, or receives into
	// one []byte with ReceiveInto (a copy per value, no allocation).
	for _, mode := range []string{"recycle", "into"} {
		b.Run(fmt.Sprintf("channel-ospipe-window%dk-%s", DefaultWindow>>10, mode), func(b *testing.B) { benchBulk(b, DefaultWindow, mode) })
	}
}

func benchBulk(b *testing.B, window int, mode string) {
	{
		a, w := sessions(b, transport{"ospipe", osPipePair}, Config{}, Config{Window: window})
		ca, cb := openPair(b, a, w, nil)
		ctx := context.Background()
		done := make(chan int)
		go func() {
			n := 0
			var into []byte
			for {
				var err error
				switch mode {
				case "into":
					err = cb.ReceiveInto(ctx, &into)
				default:
					var v any
					v, err = cb.Receive(ctx)
					if p, ok := v.([]byte); ok && mode == "recycle" {
						Recycle(p)
					}
				}
				if err != nil {
					done <- n
					return
				}
				n++
			}
		}()
		buf := make([]byte, bulkSize)
		b.SetBytes(bulkSize)
		b.ResetTimer()
		for range b.N {
			if err := ca.Send(ctx, buf); err != nil {
				b.Fatal(err)
			}
		}
		ca.Close()
		if n := <-done; n != b.N {
			b.Fatalf("received %d of %d", n, b.N)
		}
	}
}

// Benchmark1000Channels: 1000 channels opened at once, one round trip each.
func Benchmark1000Channels(b *testing.B) {
	a, w := sessions(b, transport{"ospipe", osPipePair}, Config{}, Config{})
	ctx := context.Background()
	go func() {
		for {
			c, _, err := w.Accept(ctx)
			if err != nil {
				return
			}
			c.SetCallback(func(v any) { c.Send(ctx, v); c.Close() }, nil)
		}
	}()
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := a.Open(ctx, nil)
				if err != nil {
					b.Error(err)
					return
				}
				if err := c.Send(ctx, i); err != nil {
					b.Error(err)
					return
				}
				if _, err := c.Receive(ctx); err != nil {
					b.Error(err)
				}
				c.Close()
			}()
		}
		wg.Wait()
	}
}
