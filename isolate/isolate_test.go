package isolate

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func envValue(env []string, name string) (string, bool) {
	var v string
	found := false
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); envNameEqual(k, name) {
			v, found = val, true
		}
	}
	return v, found
}

// TestWrapNone: without isolation the command and SysProcAttr stay as
// they are; only the TMPDIR is private, and Cleanup removes it.
func TestWrapNone(t *testing.T) {
	argv := []string{"/path/to/pkg.test", "-test.run=^TestX$"}
	env := []string{"A=1", EnvShim + "=stale", EnvMode + "=stale"}
	for _, v := range tempDirVars {
		env = append(env, v+"=/somewhere/else")
	}
	sys := &syscall.SysProcAttr{}
	orig := *sys
	root := t.TempDir()
	w, err := Wrap(argv, env, sys, Options{Mode: None, TempRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Argv, argv) || w.Mode != None {
		t.Errorf("argv %q mode %v, want %q none", w.Argv, w.Mode, argv)
	}
	if w.SysProcAttr == sys || !reflect.DeepEqual(*w.SysProcAttr, orig) {
		t.Errorf("SysProcAttr %+v (same pointer %v), want a copy of %+v", *w.SysProcAttr, w.SysProcAttr == sys, orig)
	}
	if filepath.Dir(w.TempDir) != root {
		t.Errorf("TempDir %q not under %q", w.TempDir, root)
	}
	for _, v := range tempDirVars {
		if got, _ := envValue(w.Env, v); got != w.TempDir {
			t.Errorf("%s=%q, want %q", v, got, w.TempDir)
		}
	}
	for _, name := range []string{EnvShim, EnvMode} {
		if v, ok := envValue(w.Env, name); ok {
			t.Errorf("%s=%q left in the environment", name, v)
		}
	}
	if v, _ := envValue(w.Env, "A"); v != "1" {
		t.Errorf("A=%q, want 1", v)
	}
	if err := w.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.TempDir); !os.IsNotExist(err) {
		t.Errorf("TempDir after Cleanup: %v", err)
	}
	if err := w.Cleanup(); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
}

func TestWrapNoTempDir(t *testing.T) {
	w, err := Wrap([]string{"x"}, []string{"A=1"}, nil, Options{Mode: None, NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	if w.TempDir != "" || !slices.Equal(w.Env, []string{"A=1"}) || w.SysProcAttr == nil {
		t.Errorf("got %+v, want env as is, a SysProcAttr and no TempDir", w)
	}
	if err := w.Cleanup(); err != nil {
		t.Error(err)
	}
}

func TestWrapEmptyArgv(t *testing.T) {
	if _, err := Wrap(nil, nil, nil, Options{Mode: None}); err == nil {
		t.Error("Wrap(nil argv) succeeded")
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Auto: "auto", None: "none", NetRoot: "net-root", NetUser: "net-user", 9: "Mode(9)"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
	if None.Isolated() || Auto.Isolated() || !NetRoot.Isolated() || !NetUser.Isolated() {
		t.Error("Isolated() wrong")
	}
}

func TestProbeResultString(t *testing.T) {
	if got := (ProbeResult{Mode: None, Reason: "why"}).String(); got != "none (why)" {
		t.Errorf("got %q", got)
	}
	if got := (ProbeResult{Mode: NetRoot}).String(); got != "net-root" {
		t.Errorf("got %q", got)
	}
}

func TestHostNetworkHint(t *testing.T) {
	for _, tc := range []struct{ name, output, want string }{
		{"unreachable", "    db_test.go:20: dial tcp 10.1.2.3:5432: connect: network is unreachable\n--- FAIL: TestDB (0.00s)\n",
			"db_test.go:20: dial tcp 10.1.2.3:5432: connect: network is unreachable"},
		{"host localhost refused", "x\n    db_test.go:9: dial tcp 127.0.0.1:5432: connect: connection refused\n",
			"db_test.go:9: dial tcp 127.0.0.1:5432: connect: connection refused"},
		{"ipv6 loopback refused", "dial tcp [::1]:6379: connect: connection refused", "dial tcp [::1]:6379: connect: connection refused"},
		{"dns on the host's resolver", "Get \"https://example.com\": dial tcp: lookup example.com on 127.0.0.53:53: read udp 127.0.0.1:3->127.0.0.53:53: read: connection refused",
			"Get \"https://example.com\": dial tcp: lookup example.com on 127.0.0.53:53: read udp 127.0.0.1:3->127.0.0.53:53: read: connection refused"},
		{"a tool's message", "curl: (7) Couldn't connect to server: Network is unreachable", "curl: (7) Couldn't connect to server: Network is unreachable"},
		{"off-loopback refused is a real answer", "dial tcp 10.1.2.3:80: connect: connection refused", ""},
		{"plain failure", "    x_test.go:3: got 2, want 3\n--- FAIL: TestX (0.00s)\n", ""},
		{"empty", "", ""},
	} {
		if got := HostNetworkHint([]byte(tc.output)); got != tc.want {
			t.Errorf("%s: HostNetworkHint = %q, want %q", tc.name, got, tc.want)
		}
	}
}
