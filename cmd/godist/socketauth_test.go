package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSocketServerFlags: serving without a token needs --insecure-no-auth
// and a loopback address (the one bound); weak tokens and bad flag
// combinations are usage errors, all before serving.
func TestSocketServerFlags(t *testing.T) {
	t.Setenv("GODIST_TOKEN", "")
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--insecure-no-auth", "--listen", "0.0.0.0:0"}, "godist socketserver: --insecure-no-auth: 0.0.0.0:0 is bound to "},
		{[]string{"--insecure-no-auth", "--listen", ":0"}, "not a loopback address: refusing to serve without a token"},
		{[]string{"--insecure-no-auth", "--token-file", short}, "--insecure-no-auth and --token-file exclude each other"},
		{[]string{"--token-file", short}, "token too weak: 3 bytes of 26 possible values give at most 14 bits; a token needs at least 128 bits of entropy"},
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
	} {
		got := runStdin(t, "", append([]string{"socketserver"}, tc.args...)...)
		if got.code != 2 || !strings.Contains(got.stderr, tc.stderr) || got.stdout != "" {
			t.Errorf("socketserver %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, got.code, got.stdout, got.stderr, tc.stderr)
		}
	}
	t.Setenv("GODIST_TOKEN", "password-password-password")
	if got := runStdin(t, "", "socketserver"); got.code != 2 || !strings.Contains(got.stderr, "$GODIST_TOKEN: token too weak: it has only 8 different bytes") {
		t.Errorf("weak $GODIST_TOKEN: exit %d, stderr %q", got.code, got.stderr)
	}
}

// TestSocketServerToken: a loopback server with a token ($GODIST_TOKEN)
// serves clients with the token (//token-file=) and refuses, with a log
// line, those without.
func TestSocketServerToken(t *testing.T) {
	const token = "a token long enough for godist"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(godist(t), "socketserver", "--listen", "127.0.0.1:0")
	srv.Env = append(os.Environ(), "GODIST_TOKEN="+token)
	var serverLog syncWriter
	srv.Stderr = &serverLog
	addr, stop := startServer(t, srv)
	defer func() {
		stop()
		if !strings.Contains(serverLog.String(), "refused connection from 127.0.0.1:") ||
			!strings.Contains(serverLog.String(), "authentication failed: the client has no token") {
			t.Errorf("server log lacks the refusal:\n%s", serverLog.String())
		}
	}()
	src := writeSource(t, upperSource)
	t.Setenv("GODIST_TOKEN", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no default token either
	got := runStdin(t, "\"socket\"\n", "exec", "--tx", "socket="+addr+"//token-file="+tokenFile, src)
	if got.code != 0 || !strings.HasPrefix(got.stdout, "\"SOCKET\"\n") {
		t.Errorf("exec with the token: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	got = runStdin(t, "\"socket\"\n", "exec", "--tx", "socket="+addr, src)
	if want := "socket " + addr + ": authentication failed: the server requires a token"; got.code != 1 || !strings.Contains(got.stderr, want) {
		t.Errorf("exec without the token: exit %d, stderr %q; want exit 1 and %q", got.code, got.stderr, want)
	}
}

// syncWriter is a strings.Builder safe for the writing process's copier
// and the test reading it.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
