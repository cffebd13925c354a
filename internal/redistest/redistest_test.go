package redistest

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// roundTrip sends one inline command and returns the first reply line.
func roundTrip(t *testing.T, conn net.Conn, cmd string) string {
	t.Helper()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		auth string
	}{
		{"plain", nil, ""},
		{"password", []Option{WithPassword("s3cret")}, "s3cret"},
		{"tls", []Option{WithTLS()}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, tc.opts...)
			var conn net.Conn
			var err error
			if s.TLS {
				conn, err = tls.Dial("tcp", s.Addr, s.ClientTLS)
				if !strings.HasPrefix(s.URL("r"), "rediss://") {
					t.Errorf("URL %q is not rediss://", s.URL("r"))
				}
			} else {
				conn, err = net.Dial("tcp", s.Addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if tc.auth != "" {
				if got := roundTrip(t, conn, "PING"); !strings.HasPrefix(got, "-NOAUTH") {
					t.Fatalf("PING without AUTH = %q, want -NOAUTH", got)
				}
				if got := roundTrip(t, conn, "AUTH "+tc.auth); got != "+OK" {
					t.Fatalf("AUTH = %q", got)
				}
				if !strings.Contains(s.URL("r"), ":"+tc.auth+"@") {
					t.Errorf("URL %q lacks the password", s.URL("r"))
				}
			}
			if got := roundTrip(t, conn, "PING"); got != "+PONG" {
				t.Fatalf("PING = %q", got)
			}
			if got := roundTrip(t, conn, "CONFIG GET save"); got != "*2" {
				t.Fatalf("CONFIG GET save = %q", got)
			}
		})
	}
}

func TestServersAreSeparate(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("two servers on %s", a.Addr)
	}
}
