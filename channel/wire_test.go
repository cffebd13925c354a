package channel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chunkyConn returns at most n bytes per Read, so frames arrive in tiny
// and odd-sized pieces.
type chunkyConn struct {
	io.ReadWriteCloser
	n int
}

func (c chunkyConn) Read(p []byte) (int, error) {
	return c.ReadWriteCloser.Read(p[:min(len(p), c.n)])
}

func TestFramingOddChunks(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef!"), 40000) // 680 KB: several frames
	for _, n := range []int{1, 2, 3, 7, 16, 17, 1000, 4093} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			tr := transport{"chunky", func(t testing.TB) (io.ReadWriteCloser, io.ReadWriteCloser) {
				a, b := net.Pipe()
				return chunkyConn{a, n}, chunkyConn{b, n}
			}}
			a, b := sessions(t, tr, Config{MaxFrame: 64 << 10}, Config{MaxFrame: 4096, Hello: "h"})
			ca, cb := openPair(t, a, b, strings.Repeat("r", 10000)) // fragmented OPEN
			for _, tc := range valueCases {
				mustSend(t, ca, tc.in)
				mustReceive(t, cb, tc.want)
			}
			if n >= 7 {
				mustSend(t, ca, big)
				mustReceive(t, cb, big)
				mustSend(t, cb, big)
				mustReceive(t, ca, big)
			}
			cb.Set("k", "v")
			if v, err := ca.Get(ctxT(t), "k"); err != nil || v != "v" {
				t.Fatalf("get: %v %v", v, err)
			}
			ca.Close()
			if _, err := cb.Receive(ctxT(t)); err != io.EOF {
				t.Fatal(err)
			}
		})
	}
}

// rawHandshake is what a well-behaved initiator sends first.
func rawHandshake(t testing.TB, version uint16) []byte {
	hello, err := marshal(nil, map[string]any{"window": uint64(DefaultWindow), "maxframe": uint64(DefaultMaxFrame), "hello": nil})
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(magic), 0, 0)
	binary.BigEndian.PutUint16(b[len(magic):], version)
	return appendFrame(b, typeHello, 0, 0, hello)
}

func hdr(typ, flags byte, id uint64, n uint32) []byte {
	b := make([]byte, headerLen)
	putHeader(b, typ, flags, id, 0)
	binary.BigEndian.PutUint32(b[4:8], n)
	return b
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// TestBadBytes feeds a worker session hostile streams and checks how the
// session ends: the error type and a text that says what was wrong.
func TestBadBytes(t *testing.T) {
	ok := rawHandshake(t, ProtocolVersion)
	open1 := appendFrame(nil, typeOpen, 0, 1, []byte{0xc0})
	cases := []struct {
		name      string
		in        []byte
		handshake bool // NewSession itself fails
		check     func(error) bool
		want      string
	}{
		{"bad_magic", []byte("GET / HTTP/1.1\r\n\r\n"), true, isProto, `bad magic "GET / HT"`},
		{"short_bad_magic", []byte("GE"), true, isProto, `bad magic "GE"`},
		{"wrong_version", rawHandshake(t, 2), true, isVersion, "channel: protocol version mismatch: local 1, remote 2"},
		{"truncated_preamble", []byte("GODIST"), true, isUnexpectedEOF, "no preamble"},
		{"no_hello", ok[:preambleLen], true, isUnexpectedEOF, "no hello"},
		{"data_before_hello", cat(ok[:preambleLen], open1), true, isProto, "got OPEN frame for channel 1, want HELLO"},
		{"bad_hello", cat(ok[:preambleLen], appendFrame(nil, typeHello, 0, 0, []byte("zz"))), true, isProto, "bad HELLO payload"},
		{"clean_eof", ok, false, func(err error) bool { return err == io.EOF }, "EOF"},
		{"unknown_type", cat(ok, hdr(0x7f, 0, 1, 0)), false, isProto, "unknown frame type 0x7f (header 7f00"},
		{"garbage", cat(ok, []byte("\xde\xad\xbe\xef garbage garbage")), false, isProto, "unknown frame type 0xde"},
		{"oversize_header", cat(ok, hdr(typeData, 0, 1, 0xffffffff)), false, isProto, "DATA frame payload length 4294967295 exceeds limit 262144"},
		{"bad_flags", cat(ok, hdr(typeClose, 0x80, 1, 0)), false, isProto, "CLOSE frame with bad flags 0x80"},
		{"reserved", cat(ok, []byte{typeClose, 0, 0, 9}, make([]byte, 12)), false, isProto, "reserved bytes 0009 set"},
		{"truncated_header", cat(ok, hdr(typeData, 0, 1, 3)[:9]), false, isUnexpectedEOF, "truncated frame header"},
		{"truncated_payload", cat(ok, open1, hdr(typeData, 0, 1, 10), []byte("abc")), false, isUnexpectedEOF, "truncated DATA frame: 3 of 10 payload bytes"},
		{"wrong_parity", cat(ok, appendFrame(nil, typeOpen, 0, 2, []byte{0xc0})), false, isProto, "OPEN for channel 2 with our parity"},
		{"unknown_channel", cat(ok, appendFrame(nil, typeData, 0, 5, []byte{0xc0})), false, isProto, "DATA frame for unknown channel 5"},
		{"channel_zero", cat(ok, appendFrame(nil, typeData, 0, 0, []byte{0xc0})), false, isProto, "DATA frame for channel 0"},
		{"duplicate_open", cat(ok, open1, open1), false, isProto, "duplicate OPEN for channel 1"},
		{"bad_set", cat(ok, open1, appendFrame(nil, typeSet, 0, 1, []byte{0xc3})), false, isProto, "bad SET payload"},
		{"bad_window_update", cat(ok, open1, appendFrame(nil, typeWindowUpdate, 0, 1, []byte{1})), false, isProto, "WINDOW_UPDATE payload 01 on channel 1, want 4 bytes"},
		{"window_overflow", cat(ok, open1, appendFrame(nil, typeWindowUpdate, 0, 1, []byte{0x7f, 0, 0, 0})), false, isProto, "grows the window"},
		{"data_after_close", cat(ok, open1, appendFrame(nil, typeClose, 0, 1, nil), appendFrame(nil, typeData, 0, 1, []byte{0xc0})), false, isProto, "DATA frame for unknown channel 1"},
		{"window_exceeded", cat(ok, open1, bytes.Repeat(appendFrame(nil, typeData, 0, 1, make([]byte, DefaultMaxFrame)), 5)), false, isProto, "exceeds the window"},
		{"empty_data", cat(ok, open1, appendFrame(nil, typeData, 0, 1, nil)), false, isProto, "empty DATA frame on channel 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, conn := net.Pipe()
			go io.Copy(io.Discard, raw)
			go func() {
				raw.Write(tc.in)
				time.Sleep(5 * time.Millisecond) // let the session read before EOF
				raw.Close()
			}()
			s, err := NewSession(ctxT(t), conn, Config{})
			if tc.handshake {
				if err == nil {
					s.Close()
					t.Fatal("NewSession succeeded")
				}
			} else {
				if err != nil {
					t.Fatalf("NewSession: %v", err)
				}
				<-s.Done()
				err = s.Err()
				s.Close()
			}
			if !tc.check(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (%T), want one containing %q", err, err, tc.want)
			}
		})
	}
}

func isProto(err error) bool         { return errors.As(err, new(*ProtocolError)) }
func isVersion(err error) bool       { return errors.As(err, new(*VersionError)) }
func isUnexpectedEOF(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }

func TestHandshakeTimeout(t *testing.T) {
	_, conn := net.Pipe() // peer never answers
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := NewSession(ctx, conn, Config{})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NewSession: %v", err)
	}
}

func TestVersionMismatchBothSides(t *testing.T) {
	x, y := net.Pipe()
	go func() {
		// a "version 2" peer: sends its preamble, reads ours
		y.Write(rawHandshake(t, 2))
		io.Copy(io.Discard, y)
	}()
	_, err := NewSession(ctxT(t), x, Config{Initiator: true})
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Local != 1 || ve.Remote != 2 || err.Error() != "channel: protocol version mismatch: local 1, remote 2" {
		t.Fatalf("err = %v", err)
	}
	y.Close()
}
