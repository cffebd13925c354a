package channel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is exchanged in the handshake; both sides must agree.
const ProtocolVersion = 1

// magic starts the preamble each side writes first (followed by a
// big-endian uint16 ProtocolVersion).
const magic = "GODISTCH"

const (
	preambleLen = len(magic) + 2
	headerLen   = 16
	// maxHelloPayload bounds the HELLO frame, which is read before the
	// peer's limits are known.
	maxHelloPayload = 1 << 20
)

// Frame types. See PROTOCOL.md for one row per type.
const (
	typeHello        byte = 0x01
	typeOpen         byte = 0x02
	typeData         byte = 0x03
	typeSet          byte = 0x04
	typeClose        byte = 0x05
	typeCloseError   byte = 0x06
	typeLastMessage  byte = 0x07
	typeWindowUpdate byte = 0x08
	typePing         byte = 0x09 // keepalive.go
)

// Frame flags.
const (
	flagMore   byte = 0x01 // OPEN, DATA: the value continues in the next frame of this channel
	flagAbort  byte = 0x02 // DATA: discard the partial value (sender failed mid-value)
	flagInline byte = 0x04 // OPEN: channel made by NewChannel, not delivered to Accept
	flagAck    byte = 0x01 // PING: the answer to a ping
)

var typeNames = [...]string{
	typeHello: "HELLO", typeOpen: "OPEN", typeData: "DATA", typeSet: "SET",
	typeClose: "CLOSE", typeCloseError: "CLOSE_ERROR", typeLastMessage: "LAST_MESSAGE",
	typeWindowUpdate: "WINDOW_UPDATE", typePing: "PING",
}

// allowedFlags per frame type; other bits set are a protocol error.
var allowedFlags = [...]byte{
	typeHello: 0, typeOpen: flagMore | flagInline, typeData: flagMore | flagAbort, typeSet: 0,
	typeClose: 0, typeCloseError: 0, typeLastMessage: 0, typeWindowUpdate: 0,
	typePing: flagAck,
}

func typeName(t byte) string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("0x%02x", t)
}

type frame struct {
	typ     byte
	flags   byte
	id      uint64
	payload []byte
	// binHdr, when set, is the start of a DATA payload that is exactly one
	// msgpack bin: payload then holds only the bin's bytes, in a buffer of
	// their own size class (64 KiB, not 64 KiB + 5 bytes that would take
	// 80 KiB), which becomes the received []byte and can be recycled.
	binHdr []byte
}

// size is the payload length on the wire.
func (f *frame) size() int { return len(f.binHdr) + len(f.payload) }

// splitBinMin: smaller DATA payloads are read whole.
const splitBinMin = 4 << 10

// putHeader writes a frame header into b[:headerLen].
func putHeader(b []byte, typ, flags byte, id uint64, n int) {
	b[0] = typ
	b[1] = flags
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint32(b[4:8], uint32(n))
	binary.BigEndian.PutUint64(b[8:16], id)
}

// appendFrame appends a whole frame to b.
func appendFrame(b []byte, typ, flags byte, id uint64, payload []byte) []byte {
	var h [headerLen]byte
	putHeader(h[:], typ, flags, id, len(payload))
	b = append(b, h[:]...)
	return append(b, payload...)
}

// frameReader decodes frames from a byte stream. It never allocates more
// than maxFrame bytes for one frame (rounded up to a receive buffer size
// class, see recycle.go), whatever the header claims.
type frameReader struct {
	r        *bufio.Reader
	conn     io.Reader // under r: big payloads are read from it directly
	maxFrame int
	hdr      [headerLen]byte
}

// readBufSize is the frameReader's buffer: it gathers small frames in one
// read; a payload of more than that skips it (no extra copy).
const readBufSize = 16 << 10

func newFrameReader(r io.Reader, maxFrame int) *frameReader {
	// r may be a countingReader (keepalive.go): both paths read through it.
	return &frameReader{r: bufio.NewReaderSize(r, readBufSize), conn: r, maxFrame: maxFrame}
}

// readPreamble reads and checks the magic and version.
func (fr *frameReader) readPreamble() error {
	var p [preambleLen]byte
	n, err := io.ReadFull(fr.r, p[:])
	if err != nil {
		if n > 0 && n < len(magic) && string(p[:n]) != magic[:n] {
			return protoErrorf("bad magic %q, want %q", p[:n], magic)
		}
		return err
	}
	if string(p[:len(magic)]) != magic {
		return protoErrorf("bad magic %q, want %q", p[:len(magic)], magic)
	}
	if v := int(binary.BigEndian.Uint16(p[len(magic):])); v != ProtocolVersion {
		return &VersionError{Local: ProtocolVersion, Remote: v}
	}
	return nil
}

// next reads one frame. io.EOF means the stream ended at a frame boundary,
// io.ErrUnexpectedEOF in the middle of a frame; *ProtocolError means a bad
// header.
func (fr *frameReader) next(limit int) (frame, error) {
	n, err := io.ReadFull(fr.r, fr.hdr[:])
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && n > 0 {
			return frame{}, fmt.Errorf("truncated frame header %x: %w", fr.hdr[:n], io.ErrUnexpectedEOF)
		}
		return frame{}, err
	}
	h := fr.hdr[:]
	f := frame{typ: h[0], flags: h[1], id: binary.BigEndian.Uint64(h[8:16])}
	size := binary.BigEndian.Uint32(h[4:8])
	if int(f.typ) >= len(typeNames) || typeNames[f.typ] == "" {
		return f, protoErrorf("unknown frame type 0x%02x (header %x)", f.typ, h)
	}
	if f.flags&^allowedFlags[f.typ] != 0 {
		return f, protoErrorf("%s frame with bad flags 0x%02x (header %x)", typeName(f.typ), f.flags, h)
	}
	if h[2] != 0 || h[3] != 0 {
		return f, protoErrorf("%s frame with reserved bytes %x set (header %x)", typeName(f.typ), h[2:4], h)
	}
	if uint64(size) > uint64(limit) {
		return f, protoErrorf("%s frame payload length %d exceeds limit %d (header %x)", typeName(f.typ), size, limit, h)
	}
	if f.typ == typeData && size >= splitBinMin {
		if p, err := fr.r.Peek(5); err == nil {
			if h := binHeaderLen(p, int(size)); h > 0 {
				f.binHdr = append([]byte(nil), p[:h]...)
				fr.r.Discard(h)
				size -= uint32(h)
			}
		}
	}
	if size > 0 {
		if f.typ == typeData {
			f.payload = getRecvBuf(int(size)) // see recycle.go
		} else {
			f.payload = make([]byte, size)
		}
		if m, err := fr.readPayload(f.payload); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			h := len(f.binHdr)
			return f, fmt.Errorf("truncated %s frame: %d of %d payload bytes: %w", typeName(f.typ), h+m, h+int(size), err)
		}
	}
	return f, nil
}

// readPayload fills p, a big payload straight from the connection after
// what the buffer holds (no copy through the buffer).
func (fr *frameReader) readPayload(p []byte) (int, error) {
	if len(p) < readBufSize {
		return io.ReadFull(fr.r, p)
	}
	n := 0
	if b := fr.r.Buffered(); b > 0 {
		n, _ = fr.r.Read(p[:min(b, len(p))]) // from the buffer: cannot fail
	}
	m, err := io.ReadFull(fr.conn, p[n:])
	return n + m, err
}

// binHeaderLen returns the length of the msgpack bin header starting p when
// that bin takes exactly size bytes with its header, else 0.
func binHeaderLen(p []byte, size int) int {
	var n, h int
	switch {
	case len(p) >= 2 && p[0] == 0xc4:
		n, h = int(p[1]), 2
	case len(p) >= 3 && p[0] == 0xc5:
		n, h = int(binary.BigEndian.Uint16(p[1:])), 3
	case len(p) >= 5 && p[0] == 0xc6:
		n, h = int(binary.BigEndian.Uint32(p[1:])), 5
	default:
		return 0
	}
	if h+n != size {
		return 0
	}
	return h
}
