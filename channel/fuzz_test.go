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
		var pe *ProtocolError
		if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &pe) {
			t.Fatalf("session ended with %T: %v", err, err)
		}
	})
}
