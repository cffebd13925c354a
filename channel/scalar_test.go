package channel

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestScalarFastPath: the decoder's shortcut for single scalars gives what
// the full decoder gives, and leaves malformed input to it.
func TestScalarFastPath(t *testing.T) {
	values := []any{
		nil, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxInt32, math.MaxInt32 + 1, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, math.MinInt64,
		uint8(7), uint16(300), uint32(70000), uint64(math.MaxUint64), uint(1),
		float32(1.5), 2.25, math.Inf(-1), "", "x", strings.Repeat("a", 31), strings.Repeat("b", 32),
		strings.Repeat("c", 255), strings.Repeat("d", 256), strings.Repeat("e", 65535), strings.Repeat("f", 65536),
	}
	for _, v := range values {
		p, err := marshal(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := scalar(p)
		if !ok {
			t.Errorf("%T %.20v: not taken by the fast path", v, v)
			continue
		}
		want, err := decodeChunks(nil, [][]byte{p, nil}, nil) // two chunks: the full decoder
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%T %.20v: fast path %T %.20v, decoder %T %.20v", v, v, got, got, want, want)
		}
		if _, ok := scalar(append(p, 0)); ok {
			t.Errorf("%T %.20v: trailing byte accepted", v, v)
		}
		if len(p) > 1 {
			if _, ok := scalar(p[:len(p)-1]); ok {
				t.Errorf("%T %.20v: truncated value accepted", v, v)
			}
		}
	}
	for _, p := range [][]byte{{}, {0x90}, {0x80}, {0xc4, 0}, {0xc1}, {0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if v, ok := scalar(p); ok {
			t.Errorf("% x: fast path gave %v", p, v)
		}
	}
}

// TestBinReadApart: a DATA frame that is exactly one bin is read without
// its header; typed decoding still sees the whole msgpack value.
func TestBinReadApart(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr transport) {
		a, b := sessions(t, tr, Config{}, Config{})
		ca, cb := openPair(t, a, b, nil)
		for _, n := range []int{splitBinMin - 3, splitBinMin, 65535 - 3, 65535, 64 << 10} {
			v := make([]byte, n)
			for i := range v {
				v[i] = byte(i * 7)
			}
			mustSend(t, ca, v)
			mustReceive(t, cb, v)
			mustSend(t, ca, v)
			var got []byte
			if err := cb.ReceiveInto(ctxT(t), &got); err != nil || !bytes.Equal(got, v) {
				t.Fatalf("%d bytes: ReceiveInto: %d bytes, %v", n, len(got), err)
			}
		}
	})
}
