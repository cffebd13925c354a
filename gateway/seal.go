package gateway

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// After the token exchange every byte of a socket gateway travels in
// sealed records, so that a man in the middle who relayed the exchange
// can neither read nor change, drop, reorder or replay what follows (the
// token exchange alone proves only who started the connection). Each
// direction has its own AES-256-GCM key, derived with HKDF-SHA256 from the
// token and both nonces of this connection's exchange; the nonce of record
// n is n, so a record moved, removed or repeated fails to open like an
// altered one. A record is a 4-byte big-endian length of the sealed bytes
// (at most sealMaxPlain+16), then those bytes; the length is the
// additional data. See PROTOCOL.md, "socket authentication".

// ErrIntegrity is wrapped by the read error of a socket connection whose
// bytes after the token exchange were not sealed by the peer with this
// connection's keys: altered in transit, or not from the peer.
var ErrIntegrity = errors.New("integrity check failed: the connection was altered in transit")

const (
	sealMaxPlain = 64 << 10
	sealTagSize  = 16
	sealHdrLen   = 4
	sealInfoC2S  = "godist-auth 2 client to server"
	sealInfoS2C  = "godist-auth 2 server to client"
)

// sealedConn is a net.Conn whose Read and Write go through sealed
// records; the other methods are the underlying connection's.
type sealedConn struct {
	net.Conn

	rmu   sync.Mutex
	r     *bufio.Reader
	open  cipher.AEAD
	rseq  uint64
	rbuf  []byte // record being read
	plain []byte // opened bytes not yet returned by Read
	rerr  error  // sticky

	wmu  sync.Mutex
	seal cipher.AEAD
	wseq uint64
	wbuf []byte
	werr error // sticky
}

// newSealedConn wraps c after a token exchange with server nonce ns and
// client nonce nc; server tells which side this is.
func newSealedConn(c net.Conn, token, ns, nc []byte, server bool) (*sealedConn, error) {
	salt := append(append([]byte(nil), ns...), nc...)
	mk := func(info string) (cipher.AEAD, error) {
		key, err := hkdf.Key(sha256.New, token, salt, info, 32)
		if err != nil {
			return nil, err
		}
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	c2s, err := mk(sealInfoC2S)
	if err != nil {
		return nil, err
	}
	s2c, err := mk(sealInfoS2C)
	if err != nil {
		return nil, err
	}
	sc := &sealedConn{Conn: c, r: bufio.NewReaderSize(c, 32<<10)}
	if server {
		sc.open, sc.seal = c2s, s2c
	} else {
		sc.open, sc.seal = s2c, c2s
	}
	return sc, nil
}

func sealNonce(seq uint64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], seq)
	return n[:]
}

// Write seals p in records of at most sealMaxPlain bytes, each written
// with one Write of the underlying connection.
func (c *sealedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), sealMaxPlain)]
		size := len(piece) + sealTagSize
		b := c.wbuf[:0]
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		b = c.seal.Seal(b, sealNonce(c.wseq), piece, b[:sealHdrLen])
		c.wbuf = b
		c.wseq++
		if _, err := c.Conn.Write(b); err != nil {
			c.werr = err
			return n, err
		}
		n += len(piece)
		p = p[len(piece):]
	}
	return n, nil
}

// Read returns opened bytes; a record that does not open ends the
// connection's reading with an error wrapping ErrIntegrity.
func (c *sealedConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.plain) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		c.rerr = c.readRecord()
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

func (c *sealedConn) readRecord() error {
	var h [sealHdrLen]byte
	if n, err := io.ReadFull(c.r, h[:]); err != nil {
		if n > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("sealed record %d: truncated header: %w", c.rseq, err)
		}
		return err // io.EOF at a record boundary: the peer closed
	}
	size := int(binary.BigEndian.Uint32(h[:]))
	if size < sealTagSize || size > sealMaxPlain+sealTagSize {
		return fmt.Errorf("%w: sealed record %d claims %d bytes", ErrIntegrity, c.rseq, size)
	}
	if cap(c.rbuf) < size {
		c.rbuf = make([]byte, sealMaxPlain+sealTagSize)
	}
	b := c.rbuf[:size]
	if _, err := io.ReadFull(c.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("sealed record %d: %w", c.rseq, err)
	}
	plain, err := c.open.Open(b[:0], sealNonce(c.rseq), b, h[:])
	if err != nil {
		return fmt.Errorf("%w: sealed record %d does not open with this connection's key", ErrIntegrity, c.rseq)
	}
	c.rseq++
	c.plain = plain
	return nil
}
