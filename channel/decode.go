package channel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
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
	r.last = 1
	return b, nil
}

func (r *chunkReader) UnreadByte() error {
	if r.last != 1 || r.off == 0 {
		return errors.New("channel: invalid UnreadByte")
	}
	r.off--
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
	r := &chunkReader{chunks: chunks, s: s, last: -1}
	d := decoderPool.Get().(*msgpack.Decoder)
	d.Reset(r)
	defer func() { d.Reset(nil); decoderPool.Put(d) }()
	if ptr != nil {
		err = d.Decode(ptr)
	} else {
		v, err = d.DecodeInterface()
	}
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if r.remaining() {
		return nil, errors.New("decode: trailing bytes after value")
	}
	return normalise(v), nil
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
