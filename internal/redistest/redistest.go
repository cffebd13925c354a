// Package redistest starts real redis-server processes on loopback for
// tests: no persistence, a fresh directory, a free port, optionally a
// password or TLS. Each server runs until its test ends: t.Cleanup stops
// it (SIGTERM, then SIGKILL after 5 s) and reaps it. Each server has one
// goroutine waiting for its process; the cleanup's stop ends it.
//
// Without redis-server the tests that need it are skipped, except under
// CI=true, where a missing redis-server is a failure (.ci/run installs
// Debian's redis-server package).
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/internal/proc"
)

// Server is a redis-server on a loopback port, started for one test.
type Server struct {
	Addr     string // 127.0.0.1:PORT
	Password string // requirepass, or ""
	// TLS is set for a server started WithTLS: the port speaks only TLS,
	// and ClientTLS trusts its self-signed certificate.
	TLS       bool
	ClientTLS *tls.Config
	Dir       string

	log *syncBuffer
}

// URL is a queue URL for run on this server, with the password in it when
// the server has one: redis://[:PASSWORD@]ADDR/RUN, rediss:// with TLS.
func (s *Server) URL(run string) string {
	scheme := "redis"
	if s.TLS {
		scheme = "rediss"
	}
	auth := ""
	if s.Password != "" {
		auth = ":" + s.Password + "@"
	}
	return scheme + "://" + auth + s.Addr + "/" + run
}

// Log is what the server printed so far.
func (s *Server) Log() string { return s.log.String() }

// Option configures Start.
type Option func(*config)

type config struct {
	password string
	tls      bool
}

// WithPassword makes the server require password (requirepass).
func WithPassword(password string) Option { return func(c *config) { c.password = password } }

// WithTLS makes the server speak TLS only, with a fresh self-signed
// certificate for 127.0.0.1.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// Path is the redis-server binary, or "": $GODIST_REDIS_SERVER if set
// (a path that does not exist counts as none), else redis-server from PATH
// or the usual places.
func Path() string {
	if p := os.Getenv("GODIST_REDIS_SERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Need returns the redis-server binary. Without one it skips the test, or
// under CI=true fails it.
func Need(t testing.TB) string {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("redistest: redis-server is not installed, and CI=true requires the Redis tests to run (apt-get install -y --no-install-recommends redis-server)")
		}
		t.Skip("redistest: redis-server is not installed (apt-get install -y --no-install-recommends redis-server); skipping the Redis tests")
	}
	return path
}

// Start starts a redis-server on a free loopback port until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin := Need(t)
	var c config
	for _, o := range opts {
		o(&c)
	}
	dir := t.TempDir()
	s := &Server{Password: c.password, TLS: c.tls, Dir: dir}
	var tlsArgs []string
	if c.tls {
		tlsArgs, s.ClientTLS = selfSigned(t, dir)
	}
	// The port is free when picked but may be taken before redis binds
	// it: try a few.
	var lastErr error
	for range 5 {
		port := loopbackPort(t)
		err := s.start(t, bin, port, tlsArgs)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

func (s *Server) start(t testing.TB, bin string, port int, tlsArgs []string) error {
	t.Helper()
	portArgs := []string{"--port", strconv.Itoa(port)}
	if s.TLS {
		portArgs = append([]string{"--port", "0", "--tls-port", strconv.Itoa(port)}, tlsArgs...)
	}
	args := append(portArgs,
		"--bind", "127.0.0.1",
		"--dir", s.Dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
	)
	if s.Password != "" {
		args = append(args, "--requirepass", s.Password)
	}
	s.log = &syncBuffer{}
	cmd := exec.CommandContext(context.Background(), bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	proc.Group(cmd, proc.Options{})
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		proc.Signal(cmd.Process, proc.Term)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for !s.answers() {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited (%v): %s", port, waitErr, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("redis-server did not answer on port %d within 10s: %s", port, s.log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("redis-server log:\n%s", s.log.String())
		}
	})
	return nil
}

// answers reports whether the server replies to PING (a NOAUTH refusal
// counts: it is up).
func (s *Server) answers() bool {
	var conn net.Conn
	var err error
	d := net.Dialer{Timeout: time.Second}
	if s.TLS {
		conn, err = tls.DialWithDialer(&d, "tcp", s.Addr, s.ClientTLS)
	} else {
		conn, err = d.Dial("tcp", s.Addr)
	}
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH")
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns redis-server's TLS arguments and a client config trusting it.
func selfSigned(t testing.TB, dir string) ([]string, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redistest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	args := []string{
		"--tls-cert-file", certFile,
		"--tls-key-file", keyFile,
		"--tls-ca-cert-file", certFile,
		"--tls-auth-clients", "no",
	}
	return args, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func loopbackPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
