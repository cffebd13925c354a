package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNetnsHosts fans a run out over socket servers in network namespaces
// this test creates: two hosts with their own addresses, reached over veth
// pairs, each serving with a token (off loopback it is required), the tests
// travelling as bundles. It needs root and iproute2; in CI both are there.
func TestNetnsHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end across network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("needs root and iproute2 in CI: ip: %v, euid %d", err, os.Geteuid())
		}
		t.Skip("needs root and iproute2")
	}
	tmp := t.TempDir()
	token := filepath.Join(tmp, "token")
	if err := os.WriteFile(token, []byte("a-token-of-at-least-sixteen-bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var specs []string
	for i := 1; i <= 2; i++ {
		addr := startNetnsServer(t, i, token)
		specs = append(specs, "--tx", "2*socket="+addr+"//token-file="+token)
	}
	dir := fixture(t, "basic")
	args := []string{"./pass/", "./fail/", "./names/", "./files/", "./many/"}
	want := runIn(t, dir, nil, "go", append([]string{"test", "-json", "-count=1"}, args...)...)
	got := runGodist(t, dir, append(append([]string{"-json", "-n", "0"}, specs...), args...)...)
	if got.code != want.code {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", got.code, want.code, got.stderr)
	}
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, got.stdout))
}

// startNetnsServer makes namespace godist-tN with address 10.231.N.2 on a
// veth pair whose other end, 10.231.N.1, stays here, and starts an
// authenticated socket server there; it returns its address. Everything is
// undone when the test ends.
func startNetnsServer(t *testing.T, n int, token string) string {
	t.Helper()
	ns := fmt.Sprintf("godist-t%d-%d", n, os.Getpid())
	host, peer := fmt.Sprintf("gdv%d-%d", n, os.Getpid()%10000), fmt.Sprintf("gdp%d-%d", n, os.Getpid()%10000)
	local, remote := fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	ip("link", "set", peer, "netns", ns)
	ip("addr", "add", local+"/24", "dev", host)
	ip("link", "set", host, "up")
	ip("-n", ns, "addr", "add", remote+"/24", "dev", peer)
	ip("-n", ns, "link", "set", peer, "up")
	ip("-n", ns, "link", "set", "lo", "up")

	srv := exec.Command("ip", "netns", "exec", ns, godist(t), "socketserver", "--listen", remote+":0", "--token-file", token)
	srv.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	addr, _ := startServer(t, srv)
	if !strings.HasPrefix(addr, remote+":") {
		t.Fatalf("socketserver in %s listens on %s", ns, addr)
	}
	return addr
}
