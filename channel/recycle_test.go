package channel

import (
	"bytes"
	"runtime"
	"testing"
)

func TestRecvClass(t *testing.T) {
	for _, n := range []int{0, 1, recvPoolMin - 1, recvPoolMax + 1, 64 << 20} {
		if _, _, ok := recvClass(n); ok {
			t.Errorf("recvClass(%d) has a class, want none", n)
		}
	}
	cases := []struct{ n, size int }{
		{4096, 4096}, {4097, 5120}, {5120, 5120}, {8191, 8192}, {8192, 8192},
		{8193, 10240}, {65535, 65536}, {65536, 65536}, {65537, 81920},
		{recvPoolMax - 1, recvPoolMax}, {recvPoolMax, recvPoolMax},
	}
	for _, tc := range cases {
		if _, size, ok := recvClass(tc.n); !ok || size != tc.size {
			t.Errorf("recvClass(%d) = %d, %v; want %d", tc.n, size, ok, tc.size)
		}
	}
	// Every size maps to the smallest class holding it, with an index one
	// above the previous class's; a class size is its own class.
	prevI, prevSize := -1, 0
	for n := recvPoolMin; n <= recvPoolMax; n++ {
		i, size, _ := recvClass(n)
		if size < n || 4*(size-n) >= n {
			t.Fatalf("recvClass(%d) = size %d", n, size)
		}
		if size != prevSize {
			if i != prevI+1 || (prevSize != 0 && n != prevSize+1) {
				t.Fatalf("recvClass(%d) = index %d size %d after index %d size %d", n, i, size, prevI, prevSize)
			}
			prevI, prevSize = i, size
		}
	}
	if prevI != numRecvClasses-1 {
		t.Errorf("last class index %d, want %d", prevI, numRecvClasses-1)
	}
}

// TestRecycle: a []byte given back with Recycle is used again for a later
// value of its size class, so receiving allocates nothing per value; a
// slice that did not come from a channel is left alone.
func TestRecycle(t *testing.T) {
	const n = 64 << 10
	payload := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, n) }
	forEachTransport(t, func(t *testing.T, tr transport) {
		a, b := sessions(t, tr, Config{}, Config{})
		ca, cb := openPair(t, a, b, nil)
		receive := func(i int) []byte {
			t.Helper()
			want := payload(i)
			mustSend(t, ca, want)
			v, err := cb.Receive(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := v.([]byte)
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("value %d: received %T of other content", i, v)
			}
			return got
		}

		t.Run("reused", func(t *testing.T) {
			// sync.Pool may drop a buffer (a GC, a P switch, randomly
			// under -race), so look for reuse over several values.
			recycled := map[*byte]bool{}
			reused := 0
			for i := range 40 {
				got := receive(i)
				if recycled[&got[0]] {
					reused++
				}
				recycled[&got[0]] = true
				Recycle(got)
			}
			if reused == 0 {
				t.Error("no recycled buffer was received again")
			}
		})

		t.Run("allocations", func(t *testing.T) {
			perValue := func(recycle bool) int64 {
				const rounds = 50
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for i := range rounds {
					got := receive(i)
					if recycle {
						Recycle(got)
					}
				}
				runtime.ReadMemStats(&after)
				// minus the test's own payload(i)
				return int64(after.TotalAlloc-before.TotalAlloc)/rounds - n
			}
			keep, recycle := perValue(false), perValue(true)
			t.Logf("bytes allocated per received value: %d kept, %d recycled", keep, recycle)
			// Buffers recycled before may serve some kept values.
			maxRecycle := int64(n / 4)
			if raceEnabled {
				maxRecycle = n * 3 / 4
			}
			if keep < n*3/4 || recycle > maxRecycle {
				t.Errorf("bytes allocated per received value: %d kept, %d recycled; want >= %d and <= %d", keep, recycle, n*3/4, maxRecycle)
			}
		})

		t.Run("foreign", func(t *testing.T) {
			foreign := [][]byte{
				nil, {}, make([]byte, 10), make([]byte, n-1), make([]byte, n+1),
				make([]byte, 0, n-1), make([]byte, 2*n)[1:], make([]byte, 2*n)[: n : n+1],
				make([]byte, 2*recvPoolMax),
			}
			for i, f := range foreign {
				for j := range f {
					f[j] = byte(i)
				}
				Recycle(f)
			}
			seen := map[*byte]bool{}
			for _, f := range foreign {
				if cap(f) > 0 {
					seen[&f[:1][0]] = true
				}
			}
			for i := range 20 {
				got := receive(i)
				if seen[&got[0]] {
					t.Fatalf("value %d was received into a foreign slice", i)
				}
				Recycle(got)
			}
			for i, f := range foreign {
				if !bytes.Equal(f, bytes.Repeat([]byte{byte(i)}, len(f))) {
					t.Errorf("foreign slice %d (len %d cap %d) was written to", i, len(f), cap(f))
				}
			}
		})

		t.Run("receive_into", func(t *testing.T) {
			var dst []byte
			mustSend(t, ca, payload(1))
			if err := cb.ReceiveInto(ctxT(t), &dst); err != nil || !bytes.Equal(dst, payload(1)) {
				t.Fatalf("ReceiveInto: %d bytes, %v", len(dst), err)
			}
			p := &dst[0]
			for i := 2; i < 5; i++ {
				mustSend(t, ca, payload(i)[:n-i])
				if err := cb.ReceiveInto(ctxT(t), &dst); err != nil || !bytes.Equal(dst, payload(i)[:n-i]) {
					t.Fatalf("ReceiveInto %d: %d bytes, %v", i, len(dst), err)
				}
				if &dst[0] != p {
					t.Errorf("ReceiveInto %d: a new buffer, not the destination's", i)
				}
			}
			small := make([]byte, 3, 10)
			dst = small
			mustSend(t, ca, payload(5))
			if err := cb.ReceiveInto(ctxT(t), &dst); err != nil || !bytes.Equal(dst, payload(5)) {
				t.Fatalf("ReceiveInto small: %d bytes, %v", len(dst), err)
			}
			if !bytes.Equal(small, make([]byte, 3)) {
				t.Errorf("too small a destination was written to: %v", small)
			}
		})

		t.Run("fragments", func(t *testing.T) {
			// Values spanning frames are decoded by copying and their
			// frame buffers recycled: later values must not overwrite
			// earlier ones.
			var kept [][]byte
			for i := range 4 {
				v := bytes.Repeat([]byte{byte(i), 1, 2}, 200<<10)
				mustSend(t, ca, []any{v, i})
				got, err := cb.Receive(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				a, ok := got.([]any)
				if !ok || len(a) != 2 || !bytes.Equal(a[0].([]byte), v) {
					t.Fatalf("fragmented value %d: received %T", i, got)
				}
				kept = append(kept, a[0].([]byte))
			}
			for i, k := range kept {
				if !bytes.Equal(k, bytes.Repeat([]byte{byte(i), 1, 2}, 200<<10)) {
					t.Errorf("fragmented value %d changed after later values", i)
				}
			}
		})
	})
}
