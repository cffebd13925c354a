//go:build unix

package gateway

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

// dialAuthed dials a server without a token and does the (empty) token
// exchange, leaving the connection at the channel handshake.
func dialAuthed(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clientAuth(ctxT(t), parseOne(t, "socket="+addr), c)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// startAuthServer runs ServeListener with opts on 127.0.0.1:0 until the test ends.
func startAuthServer(t testing.TB, opts ServeOptions) (string, *logRecorder) {
	t.Helper()
	log := &logRecorder{}
	opts.NoProcessSetup, opts.Logf = true, log.logf
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve listener: %v", err)
		}
		t.Logf("server log:\n%s", log.text())
	})
	return ln.Addr().String(), log
}

func writeToken(t testing.TB, tok string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	goodToken  = "correct horse battery staple"
	otherToken = "incorrect donkey battery staple"
)

// roundTrip runs remote code that echoes one value.
func roundTrip(t *testing.T, g *Gateway) {
	t.Helper()
	ch, err := g.RemoteExec(ctxT(t), `v, _ := channel.Receive(); channel.Send(v)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctxT(t), "ping"); err != nil {
		t.Fatal(err)
	}
	v, err := ch.Receive(ctxT(t))
	if err != nil || v != "ping" {
		t.Fatalf("echo = %v, %v; want ping", v, err)
	}
}

func TestSocketAuthToken(t *testing.T) {
	addr, log := startAuthServer(t, ServeOptions{Token: []byte(goodToken)})
	t.Run("token-file", func(t *testing.T) {
		g := openSpec(t, "socket="+addr+"//token-file="+writeToken(t, goodToken))
		roundTrip(t, g)
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv(TokenEnv, goodToken)
		g := openSpec(t, "socket="+addr)
		roundTrip(t, g)
	})
	if strings.Contains(log.text(), "refused") {
		t.Errorf("server refused a good client:\n%s", log.text())
	}
}

// TestSocketAuthRefused: every mismatch fails Open with ErrAuth and a
// clear reason, the server logs the refusal, and code sent anyway by a
// client that skips or fakes the exchange never runs.
func TestSocketAuthRefused(t *testing.T) {
	t.Setenv(TokenEnv, "")
	withToken, withLog := startAuthServer(t, ServeOptions{Token: []byte(goodToken)})
	without, withoutLog := startAuthServer(t, ServeOptions{})
	for _, tc := range []struct {
		name      string
		addr      string
		keys      string
		log       *logRecorder
		clientErr string
		serverLog string
	}{
		{"wrong token", withToken, "//token-file=" + writeToken(t, otherToken), withLog,
			"authentication failed: wrong token", "authentication failed: wrong token"},
		{"client has none", withToken, "", withLog,
			"authentication failed: the server requires a token: give //token-file=PATH or $GODIST_TOKEN", "authentication failed: the client has no token"},
		{"server has none", without, "//token-file=" + writeToken(t, goodToken), withoutLog,
			"authentication failed: this client has a token but the server requires none", "authentication failed: the client has a token, this server has none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctxT(t), parseOne(t, "socket="+tc.addr+tc.keys))
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Open = %v, want ErrAuth", err)
			}
			if want := "gateway gwt: socket " + tc.addr + ": " + tc.clientErr; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Open error\n %v\nwant it to start with\n %s", err, want)
			}
			waitFor(t, func() bool {
				return strings.Contains(tc.log.text(), "refused connection from 127.0.0.1:") &&
					strings.Contains(tc.log.text(), tc.serverLog)
			})
		})
	}

	// Attackers send an exec request right after a skipped or failed
	// exchange; the code would create flag.
	flag := filepath.Join(t.TempDir(), "ran")
	src := `import "os"` + "\n" + `os.WriteFile(` + quote(flag) + `, nil, 0o644)`
	for _, tc := range []struct{ name, prefix string }{
		{"no exchange", ""},
		{"offers none", "GODIST-AUTH 1 none\n"},
		{"fake proof", "GODIST-AUTH 1 hmac-sha256\nGODIST-PROOF " + strings.Repeat("00", 32) + " " + strings.Repeat("11", 32) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", withToken)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(tc.prefix))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s, err := channel.NewSession(ctx, c, channel.Config{Initiator: true, Hello: hello("controller")})
			if err == nil {
				defer s.Close()
				if ch, err := s.Open(ctx, ExecRequest{Source: src, Mode: ModeSync}.wire()); err == nil {
					drain(ctx, ch)
				}
				t.Error("the server did a channel handshake with an unauthenticated client")
			}
		})
	}
	// A good client's code runs after them: had theirs run, flag would exist by now.
	g := openSpec(t, "socket="+withToken+"//token-file="+writeToken(t, goodToken))
	if err := g.RemoteExecSync(ctxT(t), `channel.Send(1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(flag); err == nil {
		t.Error("code sent by an unauthenticated client ran")
	}
}

// Silent, garbage and endless peers are cut off within the handshake
// timeout without big allocations, and the server serves others meanwhile.
func TestSocketAuthHostilePeers(t *testing.T) {
	addr, log := startAuthServer(t, ServeOptions{Token: []byte(goodToken), HandshakeTimeout: 300 * time.Millisecond})
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	endless, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer endless.Close()
	endless.Write([]byte("GODIST-" + strings.Repeat("A", 1<<16))) // no newline
	garbage, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	garbage.Write([]byte("GET / HTTP/1.0\r\n\r\n"))

	t.Setenv(TokenEnv, goodToken)
	roundTrip(t, openSpec(t, "socket="+addr))
	waitFor(t, func() bool {
		text := log.text()
		return strings.Contains(text, "handshake timed out after 300ms") &&
			strings.Contains(text, "line longer than 256 bytes") &&
			strings.Contains(text, `not a godist peer: it sent "GE"`)
	})
	// The server hung up on each.
	for _, c := range []net.Conn{silent, endless, garbage} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			continue // a GODIST-FAIL line; EOF follows
		} else if isTimeout(err) {
			t.Errorf("%s: server kept the connection open", c.LocalAddr())
		}
	}
}

// A server that accepts and then says nothing (or a wrong proof) does not
// hang the client.
func TestSocketAuthSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			if len(conns) == 2 { // the second one gets a server proof made without the token
				r := bufio.NewReader(c)
				r.ReadString('\n')
				c.Write([]byte("GODIST-CHALLENGE " + strings.Repeat("ab", 32) + "\n"))
				r.ReadString('\n')
				c.Write([]byte("GODIST-OK " + strings.Repeat("cd", 32) + "\n"))
			}
		}
	}()
	defer func() { ln.Close(); <-done }()
	t.Setenv(TokenEnv, goodToken)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, parseOne(t, "socket="+ln.Addr().String()))
	if !errors.Is(err, ErrAuth) || time.Since(start) > 5*time.Second {
		t.Errorf("Open on a silent server = %v after %v, want ErrAuth within the context", err, time.Since(start))
	}
	_, err = Open(ctxT(t), parseOne(t, "socket="+ln.Addr().String()))
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "the server did not prove it holds the token") {
		t.Errorf("Open on a server without the token = %v", err)
	}
}

// testPKI makes a CA and a certificate for 127.0.0.1 signed by it; it
// returns the CA file and the server's certificate.
func testPKI(t testing.TB) (caFile string, cert tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "godist test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestSocketAuthTLS(t *testing.T) {
	caFile, cert := testPKI(t)
	otherCA, _ := testPKI(t)
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	addr, log := startAuthServer(t, ServeOptions{Token: []byte(goodToken), TLS: tlsConf})
	plainAddr, _ := startAuthServer(t, ServeOptions{Token: []byte(goodToken)})
	t.Setenv(TokenEnv, goodToken)

	roundTrip(t, openSpec(t, "socket="+addr+"//tls-ca="+caFile))

	for _, tc := range []struct{ name, spec, want string }{
		{"plain client", "socket=" + addr, "does it want TLS? add //tls or //tls-ca=FILE"},
		{"untrusted CA", "socket=" + addr + "//tls-ca=" + otherCA, "tls handshake: tls: failed to verify certificate"},
		{"system roots", "socket=" + addr + "//tls", "tls handshake: tls: failed to verify certificate"},
		{"tls client, plain server", "socket=" + plainAddr + "//tls-ca=" + caFile, "tls handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(ctxT(t), parseOne(t, tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error saying %q", err, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("failing took %v", d)
			}
		})
	}
	waitFor(t, func() bool { return strings.Contains(log.text(), "refused connection from 127.0.0.1:") })
}

func TestSpecAuthKeys(t *testing.T) {
	for _, s := range []string{
		"socket=h:1//token-file=/t",
		"socket=h:1//tls",
		"socket=h:1//token-file=/t//tls-ca=/ca.pem",
	} {
		sp := parseOne(t, s)
		sp.ID = ""
		if got := sp.String(); got != s {
			t.Errorf("ParseSpec(%q).String() = %q", s, got)
		}
	}
	for _, s := range []string{"popen//tls", "socket=h:1//tls=yes", "socket=h:1//token-file=", "exec=x//tls-ca=/c"} {
		if _, err := ParseSpec(s); err == nil {
			t.Errorf("ParseSpec(%q): no error", s)
		}
	}
	if _, err := ReadTokenFile(writeToken(t, "short")); !errors.Is(err, ErrWeakToken) {
		t.Errorf("short token: %v", err)
	}
}

// FuzzServerAuth feeds the server side arbitrary client bytes: it must
// refuse or accept without panicking, never admit a client that did not
// prove the token, and never read past its bounded lines.
func FuzzServerAuth(f *testing.F) {
	f.Add([]byte("GODIST-AUTH 1 none\n"))
	f.Add([]byte("GODIST-AUTH 1 hmac-sha256\nGODIST-PROOF " + strings.Repeat("00", 32) + " " + strings.Repeat("11", 32) + "\n"))
	f.Add([]byte("GODIST-AUTH 2 hmac-sha256\n"))
	f.Add([]byte("\x16\x03\x01\x00\xa5"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, token := range [][]byte{nil, []byte(goodToken)} {
			a, b := net.Pipe()
			var wg sync.WaitGroup
			wg.Go(func() { io.Copy(io.Discard, a) }) // the server's lines
			wg.Go(func() {
				a.Write(in)
				a.Write(make([]byte, 4*authMaxLine)) // then zeros: refused by then at the latest
			})
			conn, err := serverAuth(context.Background(), b, ServeOptions{Token: token, HandshakeTimeout: time.Second}, nil)
			if err == nil {
				if token != nil {
					t.Fatalf("admitted %q without the token", in)
				}
				conn.Close()
			}
			a.Close()
			wg.Wait()
		}
	})
}

// A token file that other users may access is refused, on the server
// (ReadTokenFile, as `godist socketserver --token-file` uses it) and by a
// client's //token-file=, like ssh refuses a loose private key.
func TestTokenFileMode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the client fails before talking
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true}, {0o700, true},
		{0o640, false}, {0o644, false}, {0o604, false}, {0o660, false}, {0o602, false}, {0o777, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			p := writeToken(t, goodToken)
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			tok, err := ReadTokenFile(p)
			if tc.ok {
				if err != nil || string(tok) != goodToken {
					t.Errorf("ReadTokenFile with mode %#o: %q, %v", tc.mode, tok, err)
				}
				return
			}
			t.Log(err)
			if !errors.Is(err, ErrTokenFileMode) {
				t.Fatalf("ReadTokenFile with mode %#o: %q, %v; want ErrTokenFileMode", tc.mode, tok, err)
			}
			for _, want := range []string{fmt.Sprintf("%q", p), fmt.Sprintf("%#o", tc.mode), "chmod 600 " + p} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			g, err := Open(ctxT(t), parseOne(t, "socket="+ln.Addr().String()+"//token-file="+p))
			if err == nil {
				g.Close()
				t.Fatal("open with a loose token file succeeded")
			}
			if !errors.Is(err, ErrTokenFileMode) || !strings.Contains(err.Error(), "chmod 600 "+p) {
				t.Errorf("open with a loose token file: %v, want ErrTokenFileMode", err)
			}
		})
	}
	if got := shellQuote("/tmp/my token's"); got != `'/tmp/my token'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}
