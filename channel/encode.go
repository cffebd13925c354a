package channel

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// extChannel is the msgpack ext type carrying a channel id (8 bytes, big endian).
const extChannel int8 = 1

var (
	channelPtrType = reflect.TypeOf((*Channel)(nil))
	timeType       = reflect.TypeOf(time.Time{})
)

// validate walks v and reports the first value the value model cannot carry.
// It runs before anything is encoded so that Send writes nothing on error.
func validate(s *Session, v any) error {
	if v == nil {
		return nil
	}
	switch v := v.(type) { // fast paths for common scalars
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, string, []byte:
		return nil
	case *Channel:
		return checkChannel(s, v)
	}
	return validateValue(s, reflect.ValueOf(v), "", 0)
}

func checkChannel(s *Session, c *Channel) error {
	if c != nil && c.s != s {
		return fmt.Errorf("channel: cannot send channel %d of another session", c.id)
	}
	return nil
}

const maxDepth = 100

func validateValue(s *Session, v reflect.Value, path string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("channel: value nested deeper than %d at %s (cycle?)", maxDepth, path)
	}
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return nil
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return validateValue(s, v.Elem(), path, depth+1)
	case reflect.Pointer:
		if t == channelPtrType {
			if v.IsNil() {
				return nil
			}
			return checkChannel(s, v.Interface().(*Channel))
		}
		if v.IsNil() {
			return nil
		}
		return validateValue(s, v.Elem(), path, depth+1)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		if !elemNeedsCheck(t.Elem()) {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := validateValue(s, v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		kc, ec := elemNeedsCheck(t.Key()), elemNeedsCheck(t.Elem())
		if !kc && !ec {
			return nil
		}
		it := v.MapRange()
		for it.Next() {
			p := fmt.Sprintf("%s[%v]", path, it.Key())
			if err := validateValue(s, it.Key(), p, depth+1); err != nil {
				return err
			}
			if err := validateValue(s, it.Value(), p, depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		if t == timeType {
			return nil
		}
		for _, f := range structFields(t) {
			if err := validateValue(s, v.FieldByIndex(f.index), path+"."+f.name, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	// func, chan, complex, unsafe pointer, uintptr
	return &UnsupportedTypeError{Type: t, Path: path}
}

// elemNeedsCheck reports whether values of static type t may hold something
// unsupported (so a []int need not be walked element by element).
func elemNeedsCheck(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return false
	}
	return true
}

type fieldInfo struct {
	name      string
	index     []int
	omitEmpty bool
}

// structFields lists the exported fields encoded for struct type t:
// named by a `msgpack:"name"` tag or the field name; `msgpack:"-"` skips;
// embedded structs without a tag are inlined (like msgpack/v5).
func structFields(t reflect.Type) []fieldInfo {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]fieldInfo)
	}
	var fs []fieldInfo
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("msgpack")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct && f.Type != timeType {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fs = append(fs, fieldInfo{name: name, index: idx, omitEmpty: strings.Contains(opts, "omitempty")})
		}
	}
	walk(t, nil)
	fieldCache.Store(t, fs)
	return fs
}

// encoder writes the msgpack encoding of a value into buf. When limit > 0
// and buf reaches it, out.flush is called to hand the bytes on (one frame) so
// that a huge value never exists twice in memory.
type encoder struct {
	buf   []byte
	limit int
	out   interface{ flush(final bool) error } // receives full frames (limit > 0)
	// zeroCopy lets bytes() attach a big slice as the frame's body
	// instead of copying it; flush then sends buf+body.
	zeroCopy    bool
	zeroCopyMin int
	body        []byte
}

// zeroCopyMin: smaller slices are copied, so that Send need not wait for
// the write and small values pipeline.

// room makes room for n more bytes, flushing a full frame first. Flushing
// only when more bytes come keeps the last frame of a value non-empty.
func (e *encoder) room(n int) error {
	if e.limit > 0 && (len(e.buf)+len(e.body)+n > e.limit || (e.body != nil && n > 0)) {
		return e.out.flush(false)
	}
	return nil
}

func (e *encoder) raw(p ...byte) error {
	if err := e.room(len(p)); err != nil {
		return err
	}
	e.buf = append(e.buf, p...)
	return nil
}

// bytes appends p, flushing in limit-sized pieces.
func (e *encoder) bytes(p []byte) error {
	for e.zeroCopy && len(p) >= e.zeroCopyMin {
		if err := e.room(1); err != nil {
			return err
		}
		n := min(len(p), e.limit-len(e.buf))
		e.body = p[:n:n]
		p = p[n:]
	}
	for len(p) > 0 {
		if err := e.room(1); err != nil {
			return err
		}
		n := len(p)
		if e.limit > 0 {
			n = min(n, e.limit-len(e.buf))
		}
		e.buf = append(e.buf, p[:n]...)
		p = p[n:]
	}
	return nil
}

func (e *encoder) str(s string) error {
	for len(s) > 0 {
		if err := e.room(1); err != nil {
			return err
		}
		n := len(s)
		if e.limit > 0 {
			n = min(n, e.limit-len(e.buf))
		}
		e.buf = append(e.buf, s[:n]...)
		s = s[n:]
	}
	return nil
}

func (e *encoder) lenHeader(n int, fix, fixMax byte, c8, c16, c32 byte) error {
	switch {
	case fix != 0 && n <= int(fixMax):
		return e.raw(fix | byte(n))
	case c8 != 0 && n <= math.MaxUint8:
		return e.raw(c8, byte(n))
	case n <= math.MaxUint16:
		return e.raw(c16, byte(n>>8), byte(n))
	default:
		return e.raw(c32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func (e *encoder) strHeader(n int) error   { return e.lenHeader(n, 0xa0, 31, 0xd9, 0xda, 0xdb) }
func (e *encoder) binHeader(n int) error   { return e.lenHeader(n, 0, 0, 0xc4, 0xc5, 0xc6) }
func (e *encoder) arrayHeader(n int) error { return e.lenHeader(n, 0x90, 15, 0, 0xdc, 0xdd) }
func (e *encoder) mapHeader(n int) error   { return e.lenHeader(n, 0x80, 15, 0, 0xde, 0xdf) }

// int keeps the sign in the encoding (int8..int64 codes), so the receiver
// can return every signed integer as int64.
func (e *encoder) int(n int64) error {
	switch {
	case n >= math.MinInt8 && n <= math.MaxInt8:
		return e.raw(0xd0, byte(n))
	case n >= math.MinInt16 && n <= math.MaxInt16:
		return e.raw(0xd1, byte(n>>8), byte(n))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return e.raw(0xd2, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	var b [9]byte
	b[0] = 0xd3
	binary.BigEndian.PutUint64(b[1:], uint64(n))
	return e.raw(b[:]...)
}

func (e *encoder) uint(n uint64) error {
	switch {
	case n <= math.MaxUint8:
		return e.raw(0xcc, byte(n))
	case n <= math.MaxUint16:
		return e.raw(0xcd, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return e.raw(0xce, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	var b [9]byte
	b[0] = 0xcf
	binary.BigEndian.PutUint64(b[1:], n)
	return e.raw(b[:]...)
}

func (e *encoder) float64(f float64) error {
	var b [9]byte
	b[0] = 0xcb
	binary.BigEndian.PutUint64(b[1:], math.Float64bits(f))
	return e.raw(b[:]...)
}

func (e *encoder) channel(c *Channel) error {
	b := [10]byte{0xd7, byte(extChannel)} // fixext8
	binary.BigEndian.PutUint64(b[2:], c.id)
	return e.raw(b[:]...)
}

// encode writes v; validate(v) must have succeeded.
func (e *encoder) encode(v any) error {
	switch v := v.(type) {
	case nil:
		return e.raw(0xc0)
	case bool:
		if v {
			return e.raw(0xc3)
		}
		return e.raw(0xc2)
	case int:
		return e.int(int64(v))
	case int64:
		return e.int(v)
	case uint64:
		return e.uint(v)
	case float64:
		return e.float64(v)
	case string:
		if err := e.strHeader(len(v)); err != nil {
			return err
		}
		return e.str(v)
	case []byte:
		if v == nil {
			return e.raw(0xc0)
		}
		if err := e.binHeader(len(v)); err != nil {
			return err
		}
		return e.bytes(v)
	case *Channel:
		if v == nil {
			return e.raw(0xc0)
		}
		return e.channel(v)
	case []any:
		if v == nil {
			return e.raw(0xc0)
		}
		if err := e.arrayHeader(len(v)); err != nil {
			return err
		}
		for _, x := range v {
			if err := e.encode(x); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if v == nil {
			return e.raw(0xc0)
		}
		if err := e.mapHeader(len(v)); err != nil {
			return err
		}
		for k, x := range v {
			if err := e.encode(k); err != nil {
				return err
			}
			if err := e.encode(x); err != nil {
				return err
			}
		}
		return nil
	}
	return e.value(reflect.ValueOf(v))
}

func (e *encoder) value(v reflect.Value) error {
	if !v.IsValid() {
		return e.raw(0xc0)
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Bool:
		return e.encode(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return e.uint(v.Uint())
	case reflect.Float32:
		var b [5]byte
		b[0] = 0xca
		binary.BigEndian.PutUint32(b[1:], math.Float32bits(float32(v.Float())))
		return e.raw(b[:]...)
	case reflect.Float64:
		return e.float64(v.Float())
	case reflect.String:
		if err := e.strHeader(v.Len()); err != nil {
			return err
		}
		return e.str(v.String())
	case reflect.Interface:
		if v.IsNil() {
			return e.raw(0xc0)
		}
		return e.value(v.Elem())
	case reflect.Pointer:
		if v.IsNil() {
			return e.raw(0xc0)
		}
		if t == channelPtrType {
			return e.channel(v.Interface().(*Channel))
		}
		return e.value(v.Elem())
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return e.raw(0xc0)
		}
		if t.Elem().Kind() == reflect.Uint8 {
			if err := e.binHeader(v.Len()); err != nil {
				return err
			}
			if t.Kind() == reflect.Slice {
				return e.bytes(v.Bytes())
			}
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return e.bytes(b)
		}
		if err := e.arrayHeader(v.Len()); err != nil {
			return err
		}
		for i := 0; i < v.Len(); i++ {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if v.IsNil() {
			return e.raw(0xc0)
		}
		if err := e.mapHeader(v.Len()); err != nil {
			return err
		}
		it := v.MapRange()
		for it.Next() {
			if err := e.value(it.Key()); err != nil {
				return err
			}
			if err := e.value(it.Value()); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		if t == timeType {
			b, err := msgpack.Marshal(v.Interface())
			if err != nil {
				return fmt.Errorf("channel: encode time: %w", err)
			}
			return e.bytes(b)
		}
		fs := structFields(t)
		n := 0
		for _, f := range fs {
			if !f.omitEmpty || !v.FieldByIndex(f.index).IsZero() {
				n++
			}
		}
		if err := e.mapHeader(n); err != nil {
			return err
		}
		for _, f := range fs {
			fv := v.FieldByIndex(f.index)
			if f.omitEmpty && fv.IsZero() {
				continue
			}
			if err := e.encode(f.name); err != nil {
				return err
			}
			if err := e.value(fv); err != nil {
				return err
			}
		}
		return nil
	}
	return &UnsupportedTypeError{Type: t}
}

// marshal encodes v into one byte slice (for SET, HELLO, CLOSE_ERROR and
// OPEN payloads that are built before framing).
func marshal(s *Session, v any) ([]byte, error) {
	if err := validate(s, v); err != nil {
		return nil, err
	}
	e := encoder{}
	if err := e.encode(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

var fieldCache sync.Map // reflect.Type -> []fieldInfo
