package isolate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needRoot skips a test that needs root, except in CI, where root is there.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root in CI")
		}
		t.Skip("needs root")
	}
}

// helperCmd is the test binary as a helper process, started through w
// when w is not nil.
func helperCmd(t testing.TB, role string, w *Wrapped, env ...string) *exec.Cmd {
	t.Helper()
	argv, procEnv := []string{selfExe}, append(os.Environ(), helperEnv+"="+role)
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if w != nil {
		argv, procEnv, sys = w.Argv, w.Env, w.SysProcAttr
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(procEnv, env...)
	cmd.SysProcAttr = sys
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// wrapHelper wraps a helper process in mode and removes its TMPDIR at the
// end of the test.
func wrapHelper(t *testing.T, role string, mode Mode, env ...string) *Wrapped {
	t.Helper()
	argv := []string{selfExe}
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	w, err := Wrap(argv, append(append(os.Environ(), helperEnv+"="+role), env...), sys, Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Cleanup(); err != nil {
			t.Error(err)
		}
	})
	return w
}

func runReport(t *testing.T, cmd *exec.Cmd, w *Wrapped) *report {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := startCmd(cmd, w)
	if err == nil {
		err = cmd.Wait()
	}
	out := []byte(stdout.String())
	if err != nil {
		t.Fatalf("%v: %v\nstderr: %s", cmd.Args, err, stderr.String())
	}
	r := new(report)
	if err := json.Unmarshal(out, r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	return r
}

// startCmd starts cmd, through w when w is not nil.
func startCmd(cmd *exec.Cmd, w *Wrapped) error {
	if w == nil {
		return cmd.Start()
	}
	return w.Start(cmd)
}

// threadsAtHome checks that every thread of this process is in the
// process's network namespace: Start's thread went back.
func threadsAtHome(t *testing.T) {
	t.Helper()
	own := ownNetNS(t)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		ns, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net")
		if err == nil && ns != own {
			t.Errorf("thread %s is in network namespace %s, the process in %s", task.Name(), ns, own)
		}
	}
}

func ownNetNS(t *testing.T) string {
	t.Helper()
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestProbeAsRoot(t *testing.T) {
	needRoot(t)
	p := Probe()
	t.Logf("probe: %v in %v", p, p.Took)
	if p.Mode != NetRoot || p.Reason != "" {
		t.Fatalf("Probe() = %v, want net-root", p)
	}
	if again := Probe(); again != p {
		t.Errorf("second Probe() = %v, want the first's %v", again, p)
	}
}

// TestIsolatedProcess checks what a wrapped process sees, in both modes
// (net-user from root works as well: the kernel allows it to everyone here).
func TestIsolatedProcess(t *testing.T) {
	needRoot(t)
	for _, mode := range []Mode{NetRoot, NetUser} {
		t.Run(mode.String(), func(t *testing.T) {
			w := wrapHelper(t, roleReport, mode, grandchildEnv+"=1")
			cmd := helperCmd(t, roleReport, w)
			r := runReport(t, cmd, w)
			if r.NetNS == ownNetNS(t) || r.NetNS == "" {
				t.Errorf("network namespace %q, ours is %q", r.NetNS, ownNetNS(t))
			}
			if !slices.Equal(r.Interfaces, []string{"lo"}) {
				t.Errorf("interfaces %q, want lo alone", r.Interfaces)
			}
			if r.Bind7 != "" {
				t.Errorf("binding 127.0.0.7: %s", r.Bind7)
			}
			if r.TempDir != w.TempDir || w.TempDir == "" {
				t.Errorf("os.TempDir() %q, want the private %q", r.TempDir, w.TempDir)
			}
			if r.ModeEnv != mode.String() || r.ShimEnv {
				t.Errorf("%s=%q, %s present %v; want %q and absent", EnvMode, r.ModeEnv, EnvShim, r.ShimEnv, mode)
			}
			// The shim replaced itself: the pid os/exec knows, in its own group.
			if r.Pid != cmd.Process.Pid || r.Pgid != r.Pid {
				t.Errorf("pid %d pgid %d, os/exec started pid %d", r.Pid, r.Pgid, cmd.Process.Pid)
			}
			if r.Uid != os.Getuid() {
				t.Errorf("uid %d, want ours, %d", r.Uid, os.Getuid())
			}
			// Root maps to root and keeps its capabilities, in the new
			// user namespace only; any other user is left none.
			if mode == NetUser && r.Uid != 0 && (r.Caps["CapEff"] != "0000000000000000" || r.Caps["CapAmb"] != "0000000000000000" || r.Caps["CapInh"] != "0000000000000000") {
				t.Errorf("capabilities left for the test: %v", r.Caps)
			}
			g := r.Grandchild
			if g == nil || g.NetNS != r.NetNS || g.TempDir != r.TempDir {
				t.Errorf("grandchild %+v, want the child's namespace %s and TMPDIR", g, r.NetNS)
			}
			threadsAtHome(t)
			w.Cleanup()
			if _, err := os.Stat(w.TempDir); !os.IsNotExist(err) {
				t.Errorf("TMPDIR after Cleanup: %v", err)
			}
		})
	}
}

// TestTempDirPrivate: two wrapped processes get a TMPDIR each.
func TestTempDirPrivate(t *testing.T) {
	needRoot(t)
	wa, wb := wrapHelper(t, roleReport, Auto), wrapHelper(t, roleReport, Auto)
	a := runReport(t, helperCmd(t, roleReport, wa), wa)
	b := runReport(t, helperCmd(t, roleReport, wb), wb)
	if a.TempDir == b.TempDir || a.NetNS == b.NetNS {
		t.Errorf("two processes share TMPDIR %q / %q or namespace %s / %s", a.TempDir, b.TempDir, a.NetNS, b.NetNS)
	}
}

// holder is a running hold helper.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	line  string
}

func startHolder(t *testing.T, addr string, w *Wrapped) *holder {
	t.Helper()
	cmd := helperCmd(t, roleHold, w, addrEnv+"="+addr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := startCmd(cmd, w); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.stop() })
	h.line, err = readLine(stdout)
	if err != nil {
		t.Fatalf("hold %s: %v", addr, err)
	}
	return h
}

func (h *holder) stop() {
	h.stdin.Close()
	h.cmd.Wait()
}

// freePort is a port nothing listens on now, for the "fixed" port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestFixedPortCollides: two processes bind one fixed 127.0.0.1 port at
// the same time; without isolation the second fails, with it both work.
func TestFixedPortCollides(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	t.Run("plain", func(t *testing.T) {
		a := startHolder(t, addr, nil)
		b := startHolder(t, addr, nil)
		if a.line != "bound" || !strings.Contains(b.line, "address already in use") {
			t.Errorf("first %q, second %q; want bound and address already in use", a.line, b.line)
		}
	})
	for _, mode := range []Mode{NetRoot, NetUser} {
		t.Run(mode.String(), func(t *testing.T) {
			a := startHolder(t, addr, wrapHelper(t, roleHold, mode))
			b := startHolder(t, addr, wrapHelper(t, roleHold, mode))
			if a.line != "bound" || b.line != "bound" {
				t.Errorf("first %q, second %q; want both bound", a.line, b.line)
			}
		})
	}
}

// TestHostNetworkFromNamespace: what a test that needs the host's network
// sees from the namespace, and that HostNetworkHint knows it. The host
// listener is real; the unreachable address is never reached, as the
// namespace has no route off lo (the helper dials only after checking it
// has lo alone).
func TestHostNetworkFromNamespace(t *testing.T) {
	needRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	host, offHost := ln.Addr().String(), "192.0.2.1:80" // TEST-NET-1
	w := wrapHelper(t, roleReport, Auto, dialEnv+"="+host+","+offHost)
	r := runReport(t, helperCmd(t, roleReport, w), w)
	if r.Dials == nil {
		t.Fatalf("the helper did not dial: interfaces %q", r.Interfaces)
	}
	for addr, errText := range r.Dials {
		hint := HostNetworkHint([]byte("    x_test.go:12: " + errText + "\n--- FAIL: TestX (0.00s)\n"))
		t.Logf("dial %s: %s; hint %q", addr, errText, hint)
		if errText == "" || hint == "" {
			t.Errorf("dial %s from the namespace: %q, hint %q; want an error with a hint", addr, errText, hint)
		}
	}
}

// TestNetUserAsNobody: an unprivileged user gets net-user, and its test
// process no capabilities.
func TestNetUserAsNobody(t *testing.T) {
	needRoot(t)
	cmd := helperCmd(t, roleProbe, nil, runEnv+"=1", "TMPDIR=/tmp")
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	p := runProbeHelper(t, cmd)
	if p.Mode != "net-user" || p.WrapMode != "net-user" || p.Child == nil {
		t.Fatalf("as nobody: %+v", p)
	}
	if p.Child.Uid != 65534 || p.Child.NetNS == ownNetNS(t) || p.Child.Caps["CapEff"] != "0000000000000000" || p.Child.Caps["CapAmb"] != "0000000000000000" {
		t.Errorf("the test process as nobody: %+v", p.Child)
	}
}

func runProbeHelper(t *testing.T, cmd *exec.Cmd) *probeReport {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	p := new(probeReport)
	if err := json.Unmarshal(out, p); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	t.Logf("probe in %v: %s (%s)", p.Took, p.Mode, p.Reason)
	return p
}

// TestFallbackWhenRefused: in a user namespace whose limits allow no new
// namespaces, Probe says none with the reasons, Wrap leaves the command as
// it is, and the process runs, unisolated.
func TestFallbackWhenRefused(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name, jail string
		reasons    []string
	}{
		{"nobody, user namespaces off", "limits,nobody", []string{"no CAP_SYS_ADMIN", "net-user: fork/exec /proc/self/exe: no space left on device: a namespace limit"}},
		{"root of a namespace, namespaces off", "limits", []string{"net-root: unshare: no space left on device", "net-user: fork/exec /proc/self/exe: no space left on device"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := helperCmd(t, roleJail, nil, jailEnv+"="+tc.jail, runEnv+"=1", "TMPDIR=/tmp")
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 65534, HostID: 65534, Size: 1}}
			cmd.SysProcAttr.GidMappings = cmd.SysProcAttr.UidMappings
			cmd.SysProcAttr.GidMappingsEnableSetgroups = true
			p := runProbeHelper(t, cmd)
			if p.Mode != "none" || p.WrapMode != "none" {
				t.Errorf("probe %s, wrap %s; want none", p.Mode, p.WrapMode)
			}
			for _, r := range tc.reasons {
				if !strings.Contains(p.Reason, r) {
					t.Errorf("reason %q lacks %q", p.Reason, r)
				}
			}
			if !slices.Equal(p.Argv, []string{selfExe}) || p.Cloneflags != 0 {
				t.Errorf("Wrap changed the command: %q, clone flags %#x", p.Argv, p.Cloneflags)
			}
			if p.Child == nil || p.Child.ModeEnv != "" || len(p.Child.Interfaces) < 2 && p.Child.Bind7 != "" {
				t.Errorf("the unisolated process: %+v (%s)", p.Child, p.ChildErr)
			}
		})
	}
}

// TestProbeNotAShim: a program without MainIfShim gets an error naming
// it, whether it ignores the probe flag or refuses it.
func TestProbeNotAShim(t *testing.T) {
	for _, prog := range []string{"true", "false"} {
		path, err := exec.LookPath(prog)
		if err != nil {
			t.Skipf("no %s(1)", prog)
		}
		err = runProbe(context.Background(), exec.Command(path, probeFlag), NetRoot)
		if err == nil || !strings.Contains(err.Error(), "MainIfShim") {
			t.Errorf("probe answered by %s(1): %v, want an error naming MainIfShim", prog, err)
		}
	}
}

// TestWrapComposes: Wrap keeps the launcher's SysProcAttr (Setpgid,
// Pdeathsig) and does not change the one given; NetRoot leaves the
// command line alone, NetUser starts the shim with the binary looked up.
func TestWrapComposes(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	argv := []string{"true", "-x"}
	for _, tc := range []struct {
		mode  Mode
		argv  []string
		flags uintptr
	}{
		{NetRoot, argv, 0},
		{NetUser, []string{selfExe, truePath, "true", "-x"}, syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET},
	} {
		w, err := Wrap(argv, []string{"A=1"}, sys, Options{Mode: tc.mode, NoTempDir: true})
		if err != nil {
			t.Fatal(err)
		}
		s := w.SysProcAttr
		if !slices.Equal(w.Argv, tc.argv) || s.Cloneflags != tc.flags || !s.Setpgid || s.Pdeathsig != syscall.SIGKILL {
			t.Errorf("%v: argv %q, clone flags %#x, Setpgid %v, Pdeathsig %v; want %q, %#x, kept", tc.mode, w.Argv, s.Cloneflags, s.Setpgid, s.Pdeathsig, tc.argv, tc.flags)
		}
		if v, _ := envValue(w.Env, EnvMode); v != tc.mode.String() {
			t.Errorf("%v: %s=%q", tc.mode, EnvMode, v)
		}
		shim, _ := envValue(w.Env, EnvShim)
		if (tc.mode == NetUser) != (shim == "net-user") {
			t.Errorf("%v: %s=%q", tc.mode, EnvShim, shim)
		}
		if tc.mode == NetUser && (len(s.UidMappings) != 1 || s.UidMappings[0].HostID != os.Geteuid() || !slices.Contains(s.AmbientCaps, 12)) {
			t.Errorf("net-user: uid maps %+v, ambient caps %v", s.UidMappings, s.AmbientCaps)
		}
	}
	if sys.Cloneflags != 0 || sys.UidMappings != nil || sys.AmbientCaps != nil {
		t.Errorf("Wrap changed the caller's SysProcAttr: %+v", sys)
	}
}

// TestShimFailure: a shim whose test binary is not there exits with
// ExitShimFailed and says why.
func TestShimFailure(t *testing.T) {
	needRoot(t)
	w, err := Wrap([]string{"/nonexistent/pkg.test"}, nil, nil, Options{Mode: NetUser, NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(w.Argv[0], w.Argv[1:]...)
	cmd.Env, cmd.SysProcAttr = w.Env, w.SysProcAttr
	out, err := cmd.CombinedOutput()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != ExitShimFailed || !strings.Contains(string(out), "godist isolate: exec /nonexistent/pkg.test: no such file") {
		t.Errorf("got %v: %q; want exit status %d and the reason", err, out, ExitShimFailed)
	}
}

// TestConcurrentStarts: processes started from several goroutines at once
// each get a namespace of their own, and every thread comes back.
func TestConcurrentStarts(t *testing.T) {
	needRoot(t)
	const n = 8
	reports := make([]*report, n)
	errs := make(chan error, n)
	for i := range n {
		w := wrapHelper(t, roleReport, Auto)
		go func() {
			cmd := helperCmd(t, roleReport, w)
			var out strings.Builder
			cmd.Stdout = &out
			err := w.Start(cmd)
			if err == nil {
				err = cmd.Wait()
			}
			if err == nil {
				reports[i] = new(report)
				err = json.Unmarshal([]byte(out.String()), reports[i])
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{ownNetNS(t): true}
	for _, r := range reports {
		if seen[r.NetNS] {
			t.Errorf("network namespace %s twice (or ours)", r.NetNS)
		}
		seen[r.NetNS] = true
	}
	threadsAtHome(t)
}
