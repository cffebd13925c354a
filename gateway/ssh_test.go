//go:build unix

package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godist/godist/internal/sshtest"
)

// sshd is a test's OpenSSH server on loopback (internal/sshtest).
type sshd = sshtest.Server

// startSSHD starts sshd with extra sshd_config lines; the remote cache is empty.
func startSSHD(t testing.TB, extra ...string) *sshd {
	t.Helper()
	return sshtest.Start(t, "", extra...)
}

// startSSHDCache starts sshd whose sessions use cache as XDG_CACHE_HOME.
func startSSHDCache(t testing.TB, cache string, extra ...string) *sshd {
	t.Helper()
	return sshtest.Start(t, cache, extra...)
}

var (
	sshdPath     = sshtest.SSHDPath
	needSSH      = sshtest.Need
	clientConfig = sshtest.ClientConfig
	keygen       = sshtest.Keygen
	writeFile    = sshtest.WriteFile
	loopbackPort = sshtest.LoopbackPort
)

func testBinarySize(t testing.TB) int64 {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// cachedFiles lists the remote cache's bin directory.
func cachedFiles(t testing.TB, s *sshd) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.Cache, "godist", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// processGone waits up to 5s for pid to disappear.
func processGone(pid int) bool {
	for range 500 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// sshTransports is the ssh transport for the behaviour tests, or none
// where there is no sshd (outside CI). Each gateway gets its own sshd; they
// share one cache under the temporary directory that already holds the
// test binary (shipping has its own tests).
func sshTransports(t testing.TB) []transport {
	if sshdPath() == "" && os.Getenv("CI") != "true" {
		return nil
	}
	return []transport{{name: "ssh", process: true, open: func(t testing.TB, keys string) *Gateway {
		s := startSSHDCache(t, sharedSSHCache(t))
		return openSpec(t, s.Spec(keys))
	}}}
}

var sshCache struct {
	once sync.Once
	dir  string
	err  error
}

// sharedSSHCache is a cache directory kept between test runs, holding
// this test binary; copies of other test builds older than an hour are
// removed the first time.
func sharedSSHCache(t testing.TB) string {
	sshCache.once.Do(func() {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("godist-ssh-test-cache-%d", os.Getuid()))
		bin, err := workerBinary(Options{})
		if err != nil {
			sshCache.err = err
			return
		}
		bindir := filepath.Join(dir, "godist", "bin")
		if err := os.MkdirAll(bindir, 0o700); err != nil {
			sshCache.err = err
			return
		}
		// Other builds' copies, unless recent: another test run may be
		// using them.
		ents, _ := os.ReadDir(bindir)
		for _, e := range ents {
			info, err := e.Info()
			if err == nil && e.Name() != "godist-"+bin.sum && time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(bindir, e.Name()))
			}
		}
		// Installed here as a bootstrap would, so that the behaviour tests,
		// each with its own sshd, do not all ship it at once.
		dst := filepath.Join(bindir, "godist-"+bin.sum)
		if _, err := os.Stat(dst); err != nil {
			if sshCache.err = copyExecutable(bin.path, dst); sshCache.err != nil {
				return
			}
		}
		sshCache.dir = dir
	})
	if sshCache.err != nil {
		t.Fatal(sshCache.err)
	}
	return sshCache.dir
}

func copyExecutable(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", dst, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func TestSSHOpenShipsOnceAndReaps(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	size := testBinarySize(t)
	wd := filepath.Join(s.Dir, "work")

	for i, wantShipped := range []int64{size, 0} {
		start := time.Now()
		g, err := Open(ctxT(t), parseOne(t, s.Spec("//chdir="+wd+"//env:GODIST_T=ssh")))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("connection %d: ready in %v, %d bytes shipped", i+1, time.Since(start).Round(time.Millisecond), g.BytesShipped())
		if g.BytesShipped() != wantShipped {
			t.Errorf("connection %d: shipped %d bytes, want %d", i+1, g.BytesShipped(), wantShipped)
		}
		in, err := g.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if in.PID == os.Getpid() || in.Cwd != wd || in.GOOS != localPlatformGOOS() {
			t.Errorf("info over ssh: %+v, want another pid, cwd %s", in, wd)
		}
		ch, err := g.RemoteExec(ctxT(t), `import "os"
channel.Send(os.Getenv("GODIST_T"))
v, _ := channel.Receive()
channel.Send(v.(int64) * 2)`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ch.Receive(ctxT(t))
		if err != nil || got != "ssh" {
			t.Errorf("remote env: %v, %v", got, err)
		}
		if err := ch.Send(ctxT(t), 21); err != nil {
			t.Fatal(err)
		}
		if got, err := ch.Receive(ctxT(t)); err != nil || got != int64(42) {
			t.Errorf("remote exec: %v, %v, want 42", got, err)
		}
		if err := ch.Wait(ctxT(t)); err != nil {
			t.Errorf("remote exec: %v", err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = g.Exit(ctx)
		cancel()
		if err != nil {
			t.Errorf("exit: %v", err)
		}
		if g.cmd.ProcessState == nil {
			t.Errorf("ssh not reaped")
		}
		if !processGone(in.PID) {
			t.Errorf("remote worker %d still running after Exit", in.PID)
		}
	}
	bin, err := workerBinary(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cachedFiles(t, s); len(got) != 1 || got[0] != "godist-"+bin.sum {
		t.Errorf("remote cache holds %q, want only godist-%s", got, bin.sum)
	}
}

func localPlatformGOOS() string {
	goos, _, _ := strings.Cut(localPlatform, "/")
	return goos
}

func TestSSHGroupSharesCopy(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	sps, err := ParseSpec("4*" + s.Spec(""))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	gr, err := NewGroup(ctxT(t), sps)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("4 ssh gateways to a fresh host ready in %v", time.Since(start).Round(time.Millisecond))
	var total int64
	var shippers int
	for _, g := range gr.Gateways() {
		total += g.BytesShipped()
		if g.BytesShipped() > 0 {
			shippers++
		}
	}
	if size := testBinarySize(t); total != size || shippers != 1 {
		t.Errorf("group shipped %d bytes from %d gateways, want %d from one", total, shippers, size)
	}
	pids := map[int]bool{}
	for _, g := range gr.Gateways() {
		in, err := g.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		pids[in.PID] = true
	}
	if len(pids) != 4 {
		t.Errorf("worker pids %v, want 4 distinct", pids)
	}
	exitReaped(t, gr, pids)
	if got := cachedFiles(t, s); len(got) != 1 {
		t.Errorf("remote cache holds %q, want one binary", got)
	}
}

func TestSSHCloseKillsRemoteWorker(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	g, err := Open(ctxT(t), parseOne(t, s.Spec("")))
	if err != nil {
		t.Fatal(err)
	}
	in, err := g.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	g.Close()
	t.Logf("close took %v", time.Since(start))
	if g.cmd.ProcessState == nil {
		t.Errorf("ssh not reaped after Close")
	}
	if !processGone(in.PID) {
		t.Errorf("remote worker %d still running after Close", in.PID)
	}
	t.Logf("remote worker gone %v after close", time.Since(start))
	if !errors.Is(g.Err(), ErrClosed) {
		t.Errorf("err after close: %v", g.Err())
	}
}

func TestSSHOpenFailures(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	noSh := startSSHD(t, "SetEnv PATH=/nonexistent")

	badKey := filepath.Join(s.Dir, "other_ed25519")
	keygen(t, badKey)
	badConfig := filepath.Join(s.Dir, "bad_config")
	writeFile(t, badConfig, clientConfig(badKey, filepath.Join(s.Dir, "known_hosts"), "accept-new"))
	strictConfig := filepath.Join(s.Dir, "strict_config")
	writeFile(t, strictConfig, clientConfig(s.Key, filepath.Join(s.Dir, "empty_known_hosts"), "yes"))
	closed := loopbackPort(t)

	for _, tc := range []struct {
		name, spec string
		want       []string // substrings of the error
	}{
		{"refused", fmt.Sprintf("ssh=127.0.0.1:%d//ssh_config=%s", closed, s.Config),
			[]string{fmt.Sprintf("ssh 127.0.0.1:%d:", closed), "Connection refused"}},
		{"bad key", fmt.Sprintf("ssh=127.0.0.1:%d//ssh_config=%s", s.Port, badConfig),
			[]string{fmt.Sprintf("ssh 127.0.0.1:%d:", s.Port), "Permission denied"}},
		{"unknown host key", fmt.Sprintf("ssh=127.0.0.1:%d//ssh_config=%s", s.Port, strictConfig),
			[]string{fmt.Sprintf("ssh 127.0.0.1:%d:", s.Port), "Host key verification failed"}},
		{"no sh", noSh.Spec(""),
			[]string{fmt.Sprintf("ssh 127.0.0.1:%d:", noSh.Port), "sh", "not found"}},
		{"unknown user", fmt.Sprintf("ssh=nosuchuser_godist@127.0.0.1:%d//ssh_config=%s", s.Port, s.Config),
			[]string{fmt.Sprintf("ssh nosuchuser_godist@127.0.0.1:%d:", s.Port), "Permission denied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			g, err := Open(ctxT(t), parseOne(t, tc.spec))
			if err == nil {
				g.Close()
				t.Fatal("open succeeded")
			}
			t.Logf("%v (after %v)", err, time.Since(start).Round(time.Millisecond))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("failing took %v", d)
			}
			var se *SSHError
			if !errors.As(err, &se) {
				t.Errorf("error %v is not an *SSHError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSSHOpenContextBoundsHang(t *testing.T) {
	t.Parallel()
	needSSH(t)
	// A server that accepts and never speaks: ssh waits for its banner.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, parseOne(t, "ssh="+ln.Addr().String()+"//ssh_config=/dev/null"))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("open against a silent server: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("open took %v with a 500ms context", d)
	}
}

// Not parallel: it changes localPlatform.
func TestSSHWrongPlatform(t *testing.T) {
	s := startSSHD(t)
	saved := localPlatform
	localPlatform = "darwin/arm64"
	t.Cleanup(func() { localPlatform = saved })
	_, err := Open(ctxT(t), parseOne(t, s.Spec("")))
	t.Log(err)
	if !errors.Is(err, ErrPlatform) || !strings.Contains(err.Error(), "this godist is darwin/arm64") {
		t.Errorf("open: %v, want ErrPlatform naming both platforms", err)
	}
}

func TestSSHArgv(t *testing.T) {
	sp := parseOne(t, "ssh=me@[::1]:2222//ssh_config=/c")
	got := strings.Join(sshArgv(context.Background(), sp, "CMD"), " ")
	want := "ssh -T -e none -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -F /c -p 2222 -l me -- ::1 CMD"
	if got != want {
		t.Errorf("argv\n got %s\nwant %s", got, want)
	}
}

func TestSSHSpecKeys(t *testing.T) {
	sp := parseOne(t, "ssh=me@h:22//ssh_config=/etc/cfg//chdir=/w")
	if sp.SSHConfig != "/etc/cfg" || sp.User != "me" || sp.Addr != "h:22" {
		t.Errorf("parsed %+v", sp)
	}
	if got := sp.String(); got != "ssh=me@h:22//id=gwt//chdir=/w//ssh_config=/etc/cfg" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []string{"popen//ssh_config=/x", "ssh=h//ssh_config="} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q): no error", bad)
		}
	}
}

func TestReadMarker(t *testing.T) {
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{in: "GODIST-HAVE\nframes", want: "GODIST-HAVE"},
		{in: "welcome to host\r\nmotd\nGODIST-NEED\r\n", want: "GODIST-NEED"},
		{in: "GODIST-ERROR remote is Darwin arm64, this godist is linux/amd64\n", want: "GODIST-ERROR remote is Darwin arm64, this godist is linux/amd64"},
		{in: "", wantErr: "ssh ended before the remote bootstrap answered"},
		{in: "junk without newline", wantErr: `(stdout: "junk without newline")`},
		{in: strings.Repeat("x", maxPrelude+1), wantErr: "more than 65536 bytes"},
	} {
		r := strings.NewReader(tc.in)
		var prelude bytes.Buffer
		got, err := readMarker(r, &prelude)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("readMarker(%.30q): %q, %v; want error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if got != tc.want || err != nil {
			t.Errorf("readMarker(%.30q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if rest := tc.in[len(tc.in)-r.Len():]; got == "GODIST-HAVE" && rest != "frames" {
			t.Errorf("readMarker consumed past the marker: rest %q", rest)
		}
	}
}

// The bootstrap script run by a local sh (as sshd would): a copy whose hash
// does not match is refused and removed.
func TestBootstrapScriptRejectsBadCopy(t *testing.T) {
	t.Parallel()
	bin, err := workerBinary(Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := bin
	bad.sum = strings.Repeat("0", 64)
	cache := t.TempDir()
	sh := exec.Command("sh", "-c", bootstrapScript(bad, localPlatform))
	sh.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	stdin, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	_, err = bootstrap(ctxT(t), pipeConn{r: stdout.(*os.File), w: stdin.(*os.File)}, bad)
	stdin.Close()
	sh.Wait()
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("bootstrap of a bad copy: %v, want checksum mismatch", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(cache, "godist", "bin")); len(ents) != 0 {
		t.Errorf("cache after a bad copy holds %v", ents)
	}
}

// BenchmarkSSHStartup measures an ssh gateway to a loopback sshd whose
// cache holds the binary (connect, log in, bootstrap, handshake), plus its
// Exit; the first, shipping Open is reported as ms-first.
func BenchmarkSSHStartup(b *testing.B) {
	s := startSSHD(b)
	ctx := context.Background()
	spec := parseOne(b, s.Spec(""))
	first := time.Now()
	g, err := Open(ctx, spec)
	if err != nil {
		b.Fatal(err)
	}
	firstOpen := time.Since(first)
	if err := g.Exit(ctx); err != nil {
		b.Fatal(err)
	}
	var open time.Duration
	for b.Loop() {
		start := time.Now()
		g, err := Open(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		open += time.Since(start)
		if err := g.Exit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(open.Microseconds())/float64(b.N)/1000, "ms-to-ready")
	b.ReportMetric(float64(firstOpen.Microseconds())/1000, "ms-first")
}

// The user's ssh_config applies: a host alias reached through ProxyJump
// (here the same sshd serves as jump host and target).
func TestSSHProxyJumpAlias(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	cfg := filepath.Join(s.Dir, "jump_config")
	writeFile(t, cfg, fmt.Sprintf(`Host target
  HostName 127.0.0.1
  Port %d
  ProxyJump jump
Host jump
  HostName 127.0.0.1
  Port %d
  HostKeyAlias jumphost
`, s.Port, s.Port)+clientConfig(s.Key, filepath.Join(s.Dir, "known_hosts"), "accept-new"))
	g, err := Open(ctxT(t), parseOne(t, "ssh=target//ssh_config="+cfg))
	if err != nil {
		t.Fatal(err)
	}
	in, err := g.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Exit(ctx); err != nil {
		t.Errorf("exit: %v", err)
	}
	if !processGone(in.PID) {
		t.Errorf("remote worker %d still running after Exit", in.PID)
	}
}

// exitReaped exits the group and checks that its remote workers, pids,
// are gone.
func exitReaped(t *testing.T, gr *Group, pids map[int]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := gr.Exit(ctx); err != nil {
		t.Errorf("group exit: %v", err)
	}
	for pid := range pids {
		if !processGone(pid) {
			t.Errorf("remote worker %d still running after Exit", pid)
		}
	}
}
