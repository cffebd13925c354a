//go:build unix

package gateway

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// mitm is a man in the middle on loopback: it relays the token exchange
// untouched, then passes sealed records on, flipping one byte of record
// number tamper (counted from 0 after the exchange) in the direction
// tamperC2S says; tamper < 0 relays everything unchanged.
type mitm struct {
	ln        net.Listener
	target    string
	tamper    int
	tamperC2S bool
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     []net.Conn
	tampered  bool
	armed     bool // tamper with the next record in the tamperC2S direction
}

// arm makes the proxy alter the next record it relays in its direction.
func (m *mitm) arm() {
	m.mu.Lock()
	m.armed = true
	m.mu.Unlock()
}

func startMITM(t *testing.T, target string, tamper int, c2s bool) *mitm {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mitm{ln: ln, target: target, tamper: tamper, tamperC2S: c2s}
	m.wg.Go(m.serve)
	t.Cleanup(func() {
		ln.Close()
		m.mu.Lock()
		for _, c := range m.conns {
			c.Close()
		}
		m.mu.Unlock()
		m.wg.Wait()
	})
	return m
}

func (m *mitm) addr() string { return m.ln.Addr().String() }

func (m *mitm) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", m.target)
		if err != nil {
			c.Close()
			continue
		}
		m.mu.Lock()
		m.conns = append(m.conns, c, s)
		m.mu.Unlock()
		// client's lines: hello, proof; server's: challenge, ok
		m.wg.Go(func() { m.relay(c, s, 2, m.tamperC2S); s.(*net.TCPConn).CloseWrite() })
		m.wg.Go(func() { m.relay(s, c, 2, !m.tamperC2S); c.(*net.TCPConn).CloseWrite() })
	}
}

func (m *mitm) relay(from, to net.Conn, lines int, tamperHere bool) {
	r := bufio.NewReader(from)
	for range lines {
		line, err := r.ReadBytes('\n')
		if _, werr := to.Write(line); err != nil || werr != nil {
			return
		}
	}
	for n := 0; ; n++ {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		rec := make([]byte, binary.BigEndian.Uint32(h[:]))
		if _, err := io.ReadFull(r, rec); err != nil {
			return
		}
		m.mu.Lock()
		if tamperHere && (n == m.tamper || m.armed) && len(rec) > 0 {
			rec[len(rec)/2] ^= 0x20
			m.tampered, m.armed = true, false
		}
		m.mu.Unlock()
		if _, err := to.Write(append(h[:], rec...)); err != nil {
			return
		}
	}
}

// TestSocketIntegrity: a man in the middle that relays the token exchange
// and then changes one byte of what follows, in either direction, is
// detected: the connection ends with ErrIntegrity logged (server) or
// returned (client), and code in or after the altered record never runs.
// Relaying unchanged works.
func TestSocketIntegrity(t *testing.T) {
	addr, log := startAuthServer(t, ServeOptions{Token: []byte(goodToken)})
	t.Setenv(TokenEnv, goodToken)

	relay := startMITM(t, addr, -1, true)
	roundTrip(t, openSpec(t, "socket="+relay.addr()))

	flag := filepath.Join(t.TempDir(), "ran")
	src := `import "os"` + "\n" + `os.WriteFile(` + quote(flag) + `, nil, 0o644)`
	// Client to server: record 0 holds the channel handshake, and the
	// exec request comes at record 1 at the earliest (after the setup
	// request's answer); with -1 the proxy alters the first record after
	// Open, which holds the exec request or comes before it. (A fixed
	// record 2 may come after the exec: the writer batches frames.)
	for _, rec := range []int{0, 1, -1} {
		m := startMITM(t, addr, rec, true)
		g, err := Open(ctxT(t), parseOne(t, "socket="+m.addr()))
		if err == nil {
			if rec == -1 {
				m.arm()
			}
			err = g.RemoteExecSync(ctxT(t), src)
			g.Close()
		}
		if err == nil {
			t.Errorf("record %d altered: the exec succeeded", rec)
		}
		if _, err := os.Stat(flag); err == nil {
			t.Fatalf("record %d altered: the code ran", rec)
		}
	}
	waitFor(t, func() bool {
		return strings.Count(log.text(), "integrity check failed: the connection was altered in transit") >= 3
	})

	// Server to client: its handshake record, then an answer.
	for _, rec := range []int{0, 1} {
		m := startMITM(t, addr, rec, false)
		g, err := Open(ctxT(t), parseOne(t, "socket="+m.addr()))
		if err == nil {
			_, err = g.Info(ctxT(t))
			for err == nil && !m.didTamper() {
				_, err = g.Info(ctxT(t))
			}
			if err == nil {
				select {
				case <-g.Done():
				case <-time.After(5 * time.Second):
				}
				err = g.Session().Err()
			}
			g.Close()
		}
		if !errors.Is(err, ErrIntegrity) {
			t.Errorf("server record %d altered: client error %v, want ErrIntegrity", rec, err)
		}
	}
}

func (m *mitm) didTamper() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tampered
}

// FuzzSealedRead feeds the reading side of a sealed connection arbitrary
// bytes after the exchange, starting from records sealed with the right
// keys: it must return exactly the plaintext of the records that were not
// changed, in order, and then fail (ErrIntegrity for anything but an end
// of stream); no altered byte is ever returned.
func FuzzSealedRead(f *testing.F) {
	ns, nc := newNonce(), newNonce()
	token := []byte(goodToken)
	sealRecords := func(msgs ...string) []byte {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		w, err := newSealedConn(a, token, ns, nc, false)
		if err != nil {
			f.Fatal(err)
		}
		var out []byte
		done := make(chan struct{})
		go func() { out, _ = io.ReadAll(b); close(done) }()
		for _, m := range msgs {
			w.Write([]byte(m))
		}
		a.Close()
		<-done
		return out
	}
	f.Add(sealRecords("GODISTCH", "hello"))
	f.Add(sealRecords(strings.Repeat("x", 70000)))
	f.Add([]byte{0, 0, 0, 16})
	plains := []string{"GODISTCH", "hello", strings.Repeat("x", 70000)}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		go func() { a.Write(in); a.Close() }()
		r, err := newSealedConn(b, token, ns, nc, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		b.Close()
		if err != nil && !errors.Is(err, ErrIntegrity) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("read ended with %v", err)
		}
		// Whatever was returned is a prefix of what some seed's records hold.
		all := strings.Join(plains[:2], "")
		if len(got) > 0 && !strings.HasPrefix(all, string(got)) && !strings.HasPrefix(plains[2], string(got)) {
			t.Fatalf("returned %d bytes the peer never sealed: %.40q", len(got), got)
		}
	})
}
