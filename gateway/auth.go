package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Authentication of socket gateways: before the channel handshake, client
// and server prove to each other that they hold the same shared token by
// HMAC-SHA256 over fresh nonces (challenge–response), so the token never
// crosses the wire. The exchange is a few short lines (see PROTOCOL.md,
// "socket authentication"); TLS, when configured, wraps the connection
// before it.

// ErrAuth is wrapped by every authentication failure of a socket gateway,
// on both sides (errors.Is).
var ErrAuth = errors.New("authentication failed")

const (
	authVersion   = 2
	authHelloPfx  = "GODIST-AUTH "      // client's first line: + version
	authHello     = "GODIST-AUTH 2"     // + " hmac-sha256" or " none"
	authChallenge = "GODIST-CHALLENGE " // server: + hex nonce
	authProof     = "GODIST-PROOF "     // client: + hex client nonce + " " + hex mac
	authOK        = "GODIST-OK"         // server: [+ " " + hex mac]
	authFail      = "GODIST-FAIL "      // server: + reason code
	authNonceSize = 32
	authMaxLine   = 256 // no line of the exchange is longer: bounds what a peer can make us hold
	// clientAuthTimeout bounds the client's TLS and token exchange when
	// Open's context allows longer.
	clientAuthTimeout = 10 * time.Second
)

// Reason codes of a GODIST-FAIL line.
const (
	failTokenRequired = "token-required" // the client offered none
	failNoToken       = "no-token"       // the client offered one, the server has none
	failWrongToken    = "wrong-token"
	failBadHello      = "bad-hello"
	failVersion       = "version" // + " " + the server's exchange version
)

func authMAC(token, a, b []byte) []byte {
	m := hmac.New(sha256.New, token)
	m.Write(a)
	m.Write(b)
	return m.Sum(nil)
}

func newNonce() []byte {
	b := make([]byte, authNonceSize)
	if _, err := rand.Read(b); err != nil {
		panic("gateway: crypto/rand: " + err.Error())
	}
	return b
}

// readAuthLine reads one line ending in '\n' byte by byte (nothing after
// it is consumed: the channel handshake follows), at most authMaxLine
// bytes, failing as soon as the bytes cannot start with "GODIST-".
func readAuthLine(r io.Reader) (string, error) {
	const magic = "GODIST-"
	var line []byte
	var b [1]byte
	for len(line) < authMaxLine {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if b[0] == '\n' {
			return string(line), nil
		}
		line = append(line, b[0])
		if n := min(len(line), len(magic)); string(line[:n]) != magic[:n] {
			return "", fmt.Errorf("not a godist peer: it sent %q", line)
		}
	}
	return "", fmt.Errorf("line longer than %d bytes: %q...", authMaxLine, line[:32])
}

func writeAuthLine(w io.Writer, s string) error {
	_, err := w.Write([]byte(s + "\n"))
	return err
}

// hexField decodes a hex field that must be n bytes long.
func hexField(s string, n int) ([]byte, bool) {
	b, err := hex.DecodeString(s)
	return b, err == nil && len(b) == n
}

// serverAuth runs the server side on a freshly accepted connection: TLS
// if opts.TLS is set, then the token exchange, all within
// opts.HandshakeTimeout and ended early by ctx. It returns the connection
// to serve; on failure it has closed c and the error says why (wrapping
// ErrAuth when the peer did not prove it holds the token).
// onHello, if not nil, is called once the client's first line is read.
func serverAuth(ctx context.Context, c net.Conn, opts ServeOptions, onHello func()) (conn net.Conn, err error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer func() {
		if err != nil {
			c.Close()
			if isTimeout(err) {
				err = fmt.Errorf("%w: handshake timed out after %v", ErrAuth, opts.HandshakeTimeout)
			}
		}
	}()
	if err := c.SetDeadline(time.Now().Add(opts.HandshakeTimeout)); err != nil {
		return nil, err
	}
	conn = c
	if opts.TLS != nil {
		tc := tls.Server(c, opts.TLS)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	hello, err := readAuthLine(conn)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if onHello != nil {
		onHello()
	}
	offer, ok := strings.CutPrefix(hello, authHello+" ")
	if v, _, _ := strings.Cut(strings.TrimPrefix(hello, authHelloPfx), " "); !ok && strings.HasPrefix(hello, authHelloPfx) && v != fmt.Sprint(authVersion) {
		writeAuthLine(conn, fmt.Sprintf("%s%s %d", authFail, failVersion, authVersion))
		return nil, fmt.Errorf("%w: the client speaks authentication version %.8q, this server %d (another godist version)", ErrAuth, v, authVersion)
	}
	if !ok || (offer != "hmac-sha256" && offer != "none") {
		writeAuthLine(conn, authFail+failBadHello)
		return nil, fmt.Errorf("%w: unknown hello %q (another godist version?)", ErrAuth, hello)
	}
	switch {
	case opts.Token == nil && offer == "none":
		if err := writeAuthLine(conn, authOK); err != nil {
			return nil, err
		}
	case opts.Token == nil:
		writeAuthLine(conn, authFail+failNoToken)
		return nil, fmt.Errorf("%w: the client has a token, this server has none", ErrAuth)
	case offer == "none":
		writeAuthLine(conn, authFail+failTokenRequired)
		return nil, fmt.Errorf("%w: the client has no token", ErrAuth)
	default:
		nonce := newNonce()
		if err := writeAuthLine(conn, authChallenge+hex.EncodeToString(nonce)); err != nil {
			return nil, err
		}
		line, err := readAuthLine(conn)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAuth, err)
		}
		rest, _ := strings.CutPrefix(line, authProof)
		cn, mac, _ := strings.Cut(rest, " ")
		cnonce, ok1 := hexField(cn, authNonceSize)
		got, ok2 := hexField(mac, sha256.Size)
		if !strings.HasPrefix(line, authProof) || !ok1 || !ok2 {
			writeAuthLine(conn, authFail+failBadHello)
			return nil, fmt.Errorf("%w: bad proof line %q", ErrAuth, line)
		}
		if !hmac.Equal(got, authMAC(opts.Token, nonce, cnonce)) {
			writeAuthLine(conn, authFail+failWrongToken)
			return nil, fmt.Errorf("%w: wrong token", ErrAuth)
		}
		if err := writeAuthLine(conn, authOK+" "+hex.EncodeToString(authMAC(opts.Token, cnonce, nonce))); err != nil {
			return nil, err
		}
		if conn, err = newSealedConn(conn, opts.Token, nonce, cnonce, true); err != nil {
			return nil, err
		}
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return conn, nil
}

// clientAuth runs the client side of a socket= gateway on a dialled
// connection: TLS if the spec says //tls or //tls-ca=, then the token
// exchange with the token of //token-file= or $GODIST_TOKEN. Bounded by
// ctx and clientAuthTimeout. On failure it closes c and returns an error
// starting "gateway ID: socket ADDR: ".
func clientAuth(ctx context.Context, spec Spec, c net.Conn) (net.Conn, error) {
	conn, err := clientAuthConn(ctx, spec, c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("gateway %s: socket %s: %w", spec.ID, spec.Addr, err)
	}
	return conn, nil
}

func clientAuthConn(ctx context.Context, spec Spec, c net.Conn) (net.Conn, error) {
	token, err := clientToken(spec.TokenFile)
	if err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if spec.TLS || spec.TLSCA != "" {
		host, _, _ := net.SplitHostPort(spec.Addr)
		tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if spec.TLSCA != "" {
			pem, err := os.ReadFile(spec.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("tls-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls-ca: no PEM certificate in %q", spec.TLSCA)
			}
			tlsConf.RootCAs = pool
		}
	}
	start := time.Now()
	deadline := start.Add(clientAuthTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// A cancelled ctx interrupts the exchange by moving the deadline.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	conn, err := clientExchange(c, tlsConf, token)
	if !stop() {
		return nil, fmt.Errorf("%w: no answer from the server in time: %w", ErrAuth, ctx.Err())
	}
	if err != nil {
		if isTimeout(err) {
			return nil, fmt.Errorf("%w: no answer from the server within %v", ErrAuth, deadline.Sub(start).Round(time.Millisecond))
		}
		return nil, err
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return conn, nil
}

// plainHint explains a server that hangs up or answers gibberish before any
// line of ours was answered: most likely it wants TLS.
const plainHint = "the server hung up or sent something else (does it want TLS? add //tls or //tls-ca=FILE)"

func clientExchange(c net.Conn, tlsConf *tls.Config, token []byte) (net.Conn, error) {
	conn := c
	if tlsConf != nil {
		tc := tls.Client(c, tlsConf)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	offer := "none"
	if token != nil {
		offer = "hmac-sha256"
	}
	if err := writeAuthLine(conn, authHello+" "+offer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	line, err := readAuthLine(conn)
	if err != nil {
		if tlsConf == nil && !isTimeout(err) {
			return nil, fmt.Errorf("%w: %s: %w", ErrAuth, plainHint, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if reason, ok := strings.CutPrefix(line, authFail); ok {
		return nil, failError(reason)
	}
	if token == nil {
		if line != authOK {
			return nil, fmt.Errorf("%w: unexpected answer %q", ErrAuth, line)
		}
		return conn, nil
	}
	nonceHex, ok := strings.CutPrefix(line, authChallenge)
	nonce, ok2 := hexField(nonceHex, authNonceSize)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%w: unexpected answer %q", ErrAuth, line)
	}
	cnonce := newNonce()
	proof := authProof + hex.EncodeToString(cnonce) + " " + hex.EncodeToString(authMAC(token, nonce, cnonce))
	if err := writeAuthLine(conn, proof); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	line, err = readAuthLine(conn)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if reason, ok := strings.CutPrefix(line, authFail); ok {
		return nil, failError(reason)
	}
	macHex, ok := strings.CutPrefix(line, authOK+" ")
	mac, ok2 := hexField(macHex, sha256.Size)
	if !ok || !ok2 || !hmac.Equal(mac, authMAC(token, cnonce, nonce)) {
		return nil, fmt.Errorf("%w: the server did not prove it holds the token", ErrAuth)
	}
	return newSealedConn(conn, token, nonce, cnonce, false)
}

func failError(reason string) error {
	if v, ok := strings.CutPrefix(reason, failVersion+" "); ok {
		return fmt.Errorf("%w: the server speaks authentication version %.8q, this client %d (another godist version)", ErrAuth, v, authVersion)
	}
	switch reason {
	case failWrongToken:
		return fmt.Errorf("%w: wrong token", ErrAuth)
	case failTokenRequired:
		return fmt.Errorf("%w: the server requires a token: give //token-file=PATH or $%s", ErrAuth, TokenEnv)
	case failNoToken:
		return fmt.Errorf("%w: this client has a token but the server requires none (start it with --token-file or $%s)", ErrAuth, TokenEnv)
	}
	return fmt.Errorf("%w: the server refused: %q", ErrAuth, reason)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
