package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSocketServerNeedsToken: off loopback the server refuses to start
// without a token, before listening; bad flag combinations are usage errors.
func TestSocketServerNeedsToken(t *testing.T) {
	t.Setenv("GODIST_TOKEN", "")
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, "godist socketserver: listening on 0.0.0.0:0 needs authentication: give --token-file or GODIST_TOKEN (remote exec runs any code as this user)\n"},
		{[]string{"--listen", ":0"}, "listening on :0 needs authentication"},
		{[]string{"--listen", "example.com:0"}, "listening on example.com:0 needs authentication"},
		{[]string{"--token-file", short}, "want at least 16"},
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
	} {
		got := runStdin(t, "", append([]string{"socketserver"}, tc.args...)...)
		if got.code != 2 || !strings.Contains(got.stderr, tc.stderr) || got.stdout != "" {
			t.Errorf("socketserver %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, got.code, got.stdout, got.stderr, tc.stderr)
		}
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
