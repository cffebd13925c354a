package channel

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzFrameDecoder feeds arbitrary bytes to the frame decoder and then to
// a whole session (after a valid handshake): any input must end with a
// known error, never a panic, a hang or an allocation above the limit.
func FuzzFrameDecoder(f *testing.F) {
	f.Add([]byte{})
	f.Add(appendFrame(nil, typeOpen, 0, 1, []byte{0xc0}))
	f.Add(cat(appendFrame(nil, typeOpen, flagMore, 1, []byte{0x92}), appendFrame(nil, typeOpen, 0, 1, []byte{1, 2}),
		appendFrame(nil, typeData, flagMore, 1, []byte{0xc4, 3}), appendFrame(nil, typeData, 0, 1, []byte("abc")),
		appendFrame(nil, typeSet, 0, 1, []byte{0x92, 0xa1, 'k', 0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 1}),
		appendFrame(nil, typeLastMessage, 0, 1, nil), appendFrame(nil, typeClose, 0, 1, nil)))
	f.Add(hdr(typeData, 0, 1, 0xffffffff))
	const limit = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data), limit)
		for {
			fm, err := fr.next(limit)
			if err != nil {
				var pe *ProtocolError
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &pe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				break
			}
			if len(fm.payload) > limit {
				t.Fatalf("payload of %d bytes above limit", len(fm.payload))
			}
		}
		// the same bytes through a live session
		conn := &rwc{Reader: io.MultiReader(bytes.NewReader(rawHandshake(t, ProtocolVersion)), bytes.NewReader(data)), Writer: io.Discard}
		s, err := NewSession(ctxT(t), conn, Config{MaxFrame: limit, Window: 4 * limit})
		if err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("session did not end")
			}
			break
		}
		// drain whatever got accepted, decoding it
		for {
			c, _, err := s.Accept(ctxT(t))
			if err != nil {
				break
			}
			c.Receive(ctxT(t))
		}
		err = s.Err()
		s.Close()
		if !knownEnd(err) {
			t.Fatalf("session ended with %T: %v", err, err)
		}
	})
}

func knownEnd(err error) bool {
	var pe *ProtocolError
	var le *LimitError
	return err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &pe) || errors.As(err, &le)
}

// FuzzSessionFrames feeds a session, after a valid handshake, a stream of
// frames with well-formed headers made from the input (so that the fuzzer
// explores dispatch, reassembly, flow control and the limits rather than
// header checks): each frame is type, flags, channel id and payload length
// from four input bytes, then that many payload bytes. Limits are small.
// Every input must end the session with a known error, never a panic or a
// hang, and what the session holds never exceeds a limit by more than one
// frame.
func FuzzSessionFrames(f *testing.F) {
	f.Add([]byte{typeOpen, 0, 1, 1, 0xc0, typeData, 0, 1, 2, 0xa1, 'x', typeClose, 0, 1, 0})
	f.Add([]byte{typeOpen, flagMore, 1, 1, 0x92, typeOpen, 0, 1, 2, 1, 2, typeSet, 0, 1, 4, 0x92, 0xa1, 'k', 1})
	f.Add([]byte{typeOpen, flagInline, 3, 1, 0xc0, typeData, flagMore, 3, 2, 0xc4, 3, typeData, flagAbort, 3, 0, typeLastMessage, 0, 3, 0})
	f.Add([]byte{typeOpen, 0, 1, 1, 0xc0, typeWindowUpdate, 0, 1, 4, 0, 0, 1, 0, typeCloseError, 0, 1, 1, 0x80})
	const frameMax = 255
	cfg := Config{MaxFrame: MinMaxFrame, Window: 4 * MinMaxFrame, MaxChannels: 8, MaxOpenBytes: 2048, MaxSetBytes: 2048, MaxBuffered: 4096, MaxWriteQueue: 1 << 20}
	f.Fuzz(func(t *testing.T, in []byte) {
		var stream []byte
		for len(in) >= 4 {
			typ, flags, id, n := in[0], in[1], uint64(in[2]), int(in[3])
			in = in[4:]
			n = min(n, len(in))
			typ = 1 + typ%typeWindowUpdate
			flags &= allowedFlags[typ]
			if typ == typeHello {
				typ = typeOpen
			}
			stream = appendFrame(stream, typ, flags, id, in[:n])
			in = in[n:]
		}
		conn := &rwc{Reader: io.MultiReader(bytes.NewReader(rawHandshake(t, ProtocolVersion)), bytes.NewReader(stream)), Writer: io.Discard}
		s, err := NewSession(ctxT(t), conn, cfg)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("session did not end")
		}
		s.mu.Lock()
		h := s.held
		s.mu.Unlock()
		if h.peerChans > cfg.MaxChannels+1 || h.openBytes > cfg.MaxOpenBytes+frameMax || h.setBytes > cfg.MaxSetBytes+frameMax || h.buffered > cfg.MaxBuffered+frameMax {
			t.Fatalf("held %+v beyond the limits %+v", h, cfg)
		}
		for {
			c, _, err := s.Accept(ctxT(t))
			if err != nil {
				break
			}
			c.Receive(ctxT(t))
		}
		err = s.Err()
		s.Close()
		if !knownEnd(err) {
			t.Fatalf("session ended with %T: %v", err, err)
		}
	})
}
