// Package sshtest starts real OpenSSH servers on loopback for tests: a
// generated host key, a generated client key the server lets in, a client
// ssh_config to pass with //ssh_config=. The server runs until the test
// ends (t.Cleanup stops it and reaps it).
package sshtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/internal/proc"
)

// Server is an OpenSSH server on a loopback port, started for one test, that
// lets the current user in with a generated key. The remote side's cache
// (XDG_CACHE_HOME) is a fresh directory per server.
type Server struct {
	Dir    string
	Port   int
	Config string // client ssh_config (for //ssh_config=)
	Cache  string // the remote side's XDG_CACHE_HOME
	Key    string // client private key
}

// Spec is an ssh spec for this server, followed by keys.
func (s *Server) Spec(keys string) string {
	return fmt.Sprintf("ssh=127.0.0.1:%d//ssh_config=%s%s", s.Port, s.Config, keys)
}

// SSHDPath is the sshd binary, or "".
func SSHDPath() string {
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd"
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return ""
}

// Need skips the test when there is no sshd or ssh, except in CI where
// the ssh tests must run.
func Need(t testing.TB) string {
	t.Helper()
	path := SSHDPath()
	_, sshErr := exec.LookPath("ssh")
	_, keygenErr := exec.LookPath("ssh-keygen")
	if path == "" || sshErr != nil || keygenErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ssh tests need OpenSSH (apt-get install -y openssh-server): sshd %q, ssh: %v, ssh-keygen: %v", path, sshErr, keygenErr)
		}
		t.Skip("no OpenSSH server (apt-get install -y openssh-server)")
	}
	return path
}

// Start starts sshd whose sessions use cache as XDG_CACHE_HOME ("" means
// a new empty directory), with extra sshd_config lines, until the test ends.
func Start(t testing.TB, cache string, extra ...string) *Server {
	t.Helper()
	bin := Need(t)
	if os.Geteuid() == 0 {
		// Privilege separation needs it; Debian's service creates it at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	s := &Server{Dir: dir, Cache: filepath.Join(dir, "cache"), Key: filepath.Join(dir, "id_ed25519"), Config: filepath.Join(dir, "ssh_config")}
	Keygen(t, filepath.Join(dir, "host_ed25519"))
	Keygen(t, s.Key)
	pub, err := os.ReadFile(s.Key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, filepath.Join(dir, "authorized_keys"), string(pub))
	if cache != "" {
		s.Cache = cache
	}
	s.Port = LoopbackPort(t)
	conf := []string{
		fmt.Sprintf("Port %d", s.Port),
		"ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PidFile none",
		"UsePAM no",
		"StrictModes no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"MaxStartups 100",
		"LogLevel ERROR",
	}
	// Race-enabled workers would sleep 1s at exit waiting for reports.
	setEnv := "SetEnv XDG_CACHE_HOME=" + s.Cache + " GORACE=atexit_sleep_ms=0"
	for _, e := range extra {
		if strings.HasPrefix(e, "SetEnv ") {
			setEnv += " " + strings.TrimPrefix(e, "SetEnv ")
			continue
		}
		conf = append(conf, e)
	}
	conf = append(conf, setEnv)
	WriteFile(t, filepath.Join(dir, "sshd_config"), strings.Join(conf, "\n")+"\n")
	WriteFile(t, s.Config, ClientConfig(s.Key, filepath.Join(dir, "known_hosts"), "accept-new"))

	var log syncBuffer
	cmd := exec.CommandContext(context.Background(), bin, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = &log, &log
	proc.Group(cmd, proc.Options{})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Signal(cmd.Process, proc.Term)
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if bannerOK(s.Port) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not come up on port %d: %s", s.Port, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ClientConfig is an ssh_config using key and the known_hosts file kh.
func ClientConfig(key, kh, strict string) string {
	return strings.Join([]string{
		"Host *",
		"  IdentityFile " + key,
		"  IdentitiesOnly yes",
		"  IdentityAgent none",
		"  UserKnownHostsFile " + kh,
		"  GlobalKnownHostsFile /dev/null",
		"  StrictHostKeyChecking " + strict,
		"  LogLevel ERROR",
		"",
	}, "\n")
}

func bannerOK(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.HasPrefix(line, "SSH-")
}

// Keygen makes an ed25519 key pair at path.
func Keygen(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
}

// WriteFile writes a private file.
func WriteFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// LoopbackPort is a free port on 127.0.0.1.
func LoopbackPort(t testing.TB) int {
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
