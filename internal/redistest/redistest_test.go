package redistest

import (
	"bufio"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("REDISTEST_NEED_HELPER") == "1" {
		// Run as a test binary of its own by TestNeedWithoutServer.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

// TestNeedHelper is TestNeedWithoutServer's child: it calls Need.
func TestNeedHelper(t *testing.T) {
	if os.Getenv("REDISTEST_NEED_HELPER") != "1" {
		t.Skip("helper of TestNeedWithoutServer")
	}
	Need(t)
	t.Log("redis-server found")
}

// TestNeedWithoutServer: without redis-server a test is skipped, saying
// why, except under CI=true, where it fails.
func TestNeedWithoutServer(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
		says     string
	}{
		{"", false, "--- SKIP: TestNeedHelper"},
		{"true", true, "--- FAIL: TestNeedHelper"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNeedHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "REDISTEST_NEED_HELPER=1", "GODIST_REDIS_SERVER=/nonexistent/redis-server", "CI="+tc.ci, "GORACE=atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.says) || !strings.Contains(string(out), "redis-server is not installed") {
			t.Errorf("CI=%q: %v\n%s", tc.ci, err, out)
		}
	}
}

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
