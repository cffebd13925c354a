package channel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

func init() {
	msgpack.RegisterExtDecoder(extChannel, (*Channel)(nil), decodeChannelExt)
}

// chunkReader reads a value's msgpack bytes kept as the payloads of the
// frames that carried it, so a fragmented value is never joined into one
// more copy. It carries the session so channel ext values can be resolved.
type chunkReader struct {
	chunks [][]byte
	i, off int
	last   int // size of the last ReadByte step for UnreadByte: -1 none
	s      *Session
	left   int // bytes not yet read
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.i < len(r.chunks) && r.off >= len(r.chunks[r.i]) {
		r.i, r.off = r.i+1, 0
	}
	if r.i >= len(r.chunks) {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[r.i][r.off:])
	r.off += n
	r.left -= n
	r.last = -1
	return n, nil
}

func (r *chunkReader) ReadByte() (byte, error) {
	for r.i < len(r.chunks) && r.off >= len(r.chunks[r.i]) {
		r.i, r.off = r.i+1, 0
	}
	if r.i >= len(r.chunks) {
		return 0, io.EOF
	}
	b := r.chunks[r.i][r.off]
	r.off++
	r.left--
	r.last = 1
	return b, nil
}

func (r *chunkReader) UnreadByte() error {
	if r.last != 1 || r.off == 0 {
		return errors.New("channel: invalid UnreadByte")
	}
	r.off--
	r.left++
	r.last = -1
	return nil
}

func (r *chunkReader) remaining() bool {
	for r.i < len(r.chunks) && r.off >= len(r.chunks[r.i]) {
		r.i, r.off = r.i+1, 0
	}
	return r.i < len(r.chunks)
}

var decoderPool = sync.Pool{New: func() any { return msgpack.NewDecoder(nil) }}

// decodeInto decodes the single value in chunks into ptr (typed, for
// ReceiveInto) or, when ptr is nil, into a normalised any.
func decodeChunks(s *Session, chunks [][]byte, ptr any) (v any, err error) {
	defer func() {
		// msgpack panics on some hostile inputs (e.g. a map key that is
		// itself a map); bad peer bytes must not crash the process.
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("decode: invalid msgpack: %v", p)
		}
	}()
	if ptr == nil {
		if b, ok := payloadBin(chunks); ok {
			return b, nil
		}
		if len(chunks) == 1 {
			if v, ok := scalar(chunks[0]); ok {
				return v, nil
			}
		}
	}
	if err := scanValue(chunks); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	r := &chunkReader{chunks: chunks, s: s, last: -1}
	for _, c := range chunks {
		r.left += len(c)
	}
	d := decoderPool.Get().(*msgpack.Decoder)
	d.Reset(r)
	defer func() { d.Reset(nil); decoderPool.Put(d) }()
	if ptr != nil {
		err = d.Decode(ptr)
	} else {
		v, err = decodeAny(d, r, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if r.remaining() {
		return nil, errors.New("decode: trailing bytes after value")
	}
	return v, nil
}

// payloadBin returns the bytes of a value that is one bin, without
// copying, when they lie in one frame payload.
func payloadBin(chunks [][]byte) ([]byte, bool) {
	switch len(chunks) {
	case 2:
		if binHeaderLen(chunks[0], len(chunks[0])+len(chunks[1])) == len(chunks[0]) {
			return chunks[1], true // a bin read apart from its header (frameReader)
		}
	case 1:
		return wholeBin(chunks[0])
	}
	return nil, false
}

// decodeReceived decodes a received value like decodeChunks, from frame
// payloads that only this value refers to, and recycles the payloads the
// result does not use. A []byte target (ReceiveInto) takes a one-bin value
// into its own capacity when it has room, else takes the payload itself.
func decodeReceived(s *Session, chunks [][]byte, ptr any) (any, error) {
	b, ok := payloadBin(chunks)
	switch {
	case ok && ptr == nil:
		return b, nil // the payload is the value: the receiver may Recycle it
	case ok:
		if dst, isBytes := ptr.(*[]byte); isBytes {
			if *dst == nil || cap(*dst) < len(b) {
				*dst = b
				return nil, nil
			}
			*dst = (*dst)[:len(b)]
			copy(*dst, b)
			recycleChunks(chunks)
			return nil, nil
		}
	}
	v, err := decodeChunks(s, chunks, ptr)
	recycleChunks(chunks) // decoding copies: nothing in v points into them
	return v, err
}

func decodeBytes(s *Session, b []byte) (any, error) {
	return decodeChunks(s, [][]byte{b}, nil)
}

func decodeChannelExt(d *msgpack.Decoder, v reflect.Value, extLen int) error {
	if extLen != 8 {
		return fmt.Errorf("channel ext of %d bytes, want 8", extLen)
	}
	var b [8]byte
	if err := d.ReadFull(b[:]); err != nil {
		return err
	}
	r, ok := d.Buffered().(*chunkReader)
	if !ok || r.s == nil {
		return errors.New("channel value decoded outside a session")
	}
	v.Set(reflect.ValueOf(r.s.channelRef(binary.BigEndian.Uint64(b[:]))))
	return nil
}

// normalise maps msgpack's decoded types onto the documented value model:
// signed integers -> int64, unsigned -> uint64, float32 -> float64,
// recursively inside []any and maps.
func normalise(v any) any {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return uint64(x)
	case uint16:
		return uint64(x)
	case uint32:
		return uint64(x)
	case uint:
		return uint64(x)
	case float32:
		return float64(x)
	case []any:
		for i := range x {
			x[i] = normalise(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalise(e)
		}
	case map[any]any:
		m := make(map[any]any, len(x))
		for k, e := range x {
			m[normalise(k)] = normalise(e)
		}
		return m
	}
	return v
}

const maxNesting = 1000

// decodeAny decodes one value into the value model. Unlike msgpack's
// DecodeInterface it checks container lengths against the bytes left, so a
// hostile header cannot make it allocate more than the value's size.
func decodeAny(d *msgpack.Decoder, r *chunkReader, depth int) (any, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("value nested deeper than %d", maxNesting)
	}
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil || n == -1 {
			return nil, err
		}
		if n > r.left {
			return nil, fmt.Errorf("array of %d elements in %d bytes", n, r.left)
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = decodeAny(d, r, depth+1); err != nil {
				return nil, err
			}
		}
		return a, nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return decodeMap(d, r, depth)
	}
	v, err := d.DecodeInterface()
	return normalise(v), err
}

// decodeMap decodes a msgpack map into map[string]any when every key is a
// string (an empty map too), otherwise into map[any]any.
func decodeMap(d *msgpack.Decoder, r *chunkReader, depth int) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil || n == -1 {
		return nil, err
	}
	if 2*n > r.left {
		return nil, fmt.Errorf("map of %d entries in %d bytes", n, r.left)
	}
	sm := make(map[string]any, min(n, 1024))
	var am map[any]any
	for i := 0; i < n; i++ {
		k, err := decodeAny(d, r, depth+1)
		if err != nil {
			return nil, err
		}
		v, err := decodeAny(d, r, depth+1)
		if err != nil {
			return nil, err
		}
		if ks, ok := k.(string); ok && am == nil {
			sm[ks] = v
			continue
		}
		if k != nil && !reflect.TypeOf(k).Comparable() {
			return nil, fmt.Errorf("map key of type %T", k)
		}
		if am == nil {
			am = make(map[any]any, len(sm)+1)
			for ks, v := range sm {
				am[ks] = v
			}
		}
		am[k] = v
	}
	if am != nil {
		return am, nil
	}
	return sm, nil
}

// wholeBin returns the bytes of p when p is exactly one msgpack bin value.
func wholeBin(p []byte) ([]byte, bool) {
	if len(p) < 2 {
		return nil, false
	}
	var n, h int
	switch p[0] {
	case 0xc4:
		n, h = int(p[1]), 2
	case 0xc5:
		if len(p) < 3 {
			return nil, false
		}
		n, h = int(binary.BigEndian.Uint16(p[1:])), 3
	case 0xc6:
		if len(p) < 5 {
			return nil, false
		}
		n, h = int(binary.BigEndian.Uint32(p[1:])), 5
	default:
		return nil, false
	}
	if h+n != len(p) {
		return nil, false
	}
	return p[h:len(p):len(p)], true
}

// scalar decodes p when it is exactly one nil, bool, number or string:
// the common small values, without the decoder's set-up. ok is false for
// anything else, malformed input included (the full decoder reports it).
func scalar(p []byte) (v any, ok bool) {
	if len(p) == 0 {
		return nil, false
	}
	c, rest := p[0], p[1:]
	fixed := func(n int) ([]byte, bool) { return rest, len(rest) == n }
	switch {
	case c <= 0x7f || c >= 0xe0:
		return int64(int8(c)), len(rest) == 0
	case c >= 0xa0 && c <= 0xbf:
		return string(rest), len(rest) == int(c&0x1f)
	}
	switch c {
	case 0xc0:
		return nil, len(rest) == 0
	case 0xc2, 0xc3:
		return c == 0xc3, len(rest) == 0
	case 0xcc:
		if b, ok := fixed(1); ok {
			return uint64(b[0]), true
		}
	case 0xcd:
		if b, ok := fixed(2); ok {
			return uint64(binary.BigEndian.Uint16(b)), true
		}
	case 0xce:
		if b, ok := fixed(4); ok {
			return uint64(binary.BigEndian.Uint32(b)), true
		}
	case 0xcf:
		if b, ok := fixed(8); ok {
			return binary.BigEndian.Uint64(b), true
		}
	case 0xd0:
		if b, ok := fixed(1); ok {
			return int64(int8(b[0])), true
		}
	case 0xd1:
		if b, ok := fixed(2); ok {
			return int64(int16(binary.BigEndian.Uint16(b))), true
		}
	case 0xd2:
		if b, ok := fixed(4); ok {
			return int64(int32(binary.BigEndian.Uint32(b))), true
		}
	case 0xd3:
		if b, ok := fixed(8); ok {
			return int64(binary.BigEndian.Uint64(b)), true
		}
	case 0xca:
		if b, ok := fixed(4); ok {
			return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), true
		}
	case 0xcb:
		if b, ok := fixed(8); ok {
			return math.Float64frombits(binary.BigEndian.Uint64(b)), true
		}
	case 0xd9:
		if len(rest) >= 1 && len(rest)-1 == int(rest[0]) {
			return string(rest[1:]), true
		}
	case 0xda:
		if len(rest) >= 2 && len(rest)-2 == int(binary.BigEndian.Uint16(rest)) {
			return string(rest[2:]), true
		}
	case 0xdb:
		if len(rest) >= 4 && uint64(len(rest)-4) == uint64(binary.BigEndian.Uint32(rest)) {
			return string(rest[4:]), true
		}
	}
	return nil, false
}
