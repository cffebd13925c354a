package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const upperSource = `import "strings"
for {
	v, err := channel.Receive()
	if err != nil {
		break
	}
	s, _ := v.(string)
	channel.Send(strings.ToUpper(s))
}
channel.Send(map[string]any{"done": true})
`

func writeSource(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "remote.go")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runStdin runs godist with stdin.
func runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(godist(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), cmd.ProcessState.ExitCode()}
}

func TestExecCommand(t *testing.T) {
	src := writeSource(t, upperSource)
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		stdout string
		code   int
		stderr string
	}{
		{"one popen", []string{"exec", src}, "\"a\"\n\"b\"\n", "\"A\"\n\"B\"\n{\"done\":true}\n", 0, ""},
		{"two gateways", []string{"exec", "--tx", "popen//id=x", "--tx", "popen//id=y", src}, "\"a\"\n", "", 0, ""},
		{"remote panic", []string{"exec", "-"}, "panic(\"boom\")\n", "", 1, "boom"},
		{"bad spec", []string{"exec", "--tx", "popen//colour=red", src}, "", "", 2, "colour"},
		{"bad json", []string{"exec", src}, "{not json\n", "", 1, "line 1 is not JSON"},
		{"remote os.Exit", []string{"exec", "-"}, "import \"os\"\nchannel.Send(1)\nos.Exit(4)\n", "1\n", 1, "exit status 4"},
		{"panicking goroutine", []string{"exec", "-"}, "go func() { panic(\"plain goroutine\") }()\nselect {}\n", "", 1, "worker died"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runStdin(t, tc.stdin, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", got.code, tc.code, got.stdout, got.stderr)
			}
			if tc.stdout != "" && got.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", got.stdout, tc.stdout)
			}
			if tc.stderr != "" && !strings.Contains(got.stderr, tc.stderr) {
				t.Errorf("stderr %q does not mention %q", got.stderr, tc.stderr)
			}
			if tc.name == "two gateways" {
				for _, want := range []string{"x \"A\"\n", "y \"A\"\n", "x {\"done\":true}\n", "y {\"done\":true}\n"} {
					if !strings.Contains(got.stdout, want) {
						t.Errorf("stdout %q lacks %q", got.stdout, want)
					}
				}
			}
		})
	}
}

// TestSocketServerCommand starts `godist socketserver` and runs code on it
// through a socket gateway, then runs tests on it with --tx.
func TestSocketServerCommand(t *testing.T) {
	srv := exec.Command(godist(t), "socketserver", "--listen", "127.0.0.1:0")
	// Its workers keep test bundles in the cache: a private one.
	srv.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	addr, _ := startServer(t, srv)
	got := runStdin(t, "\"socket\"\n", "exec", "--tx", "socket="+addr, writeSource(t, upperSource))
	if got.code != 0 || !strings.HasPrefix(got.stdout, "\"SOCKET\"\n") {
		t.Errorf("exec over socket: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	dir := fixture(t, "basic")
	res := runGodist(t, dir, "-json", "-n", "0", "--tx", "2*socket="+addr, "./names/", "./fail/")
	want := runIn(t, dir, nil, "go", "test", "-json", "-count=1", "./names/", "./fail/")
	diffOutcomes(t, outcomes(t, want.stdout), outcomes(t, res.stdout))
}

// startServer starts a prepared `godist socketserver` command (its Stderr
// set by the caller or os.Stderr), waits for its "listening on ADDR" line
// and returns ADDR and a stop function: SIGINT, then a check that it ended
// cleanly within 10 s (killed and reported otherwise). stop runs at the end
// of the test too; calling it earlier is fine.
func startServer(t *testing.T, srv *exec.Cmd) (addr string, stop func()) {
	t.Helper()
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if srv.Stderr == nil {
		srv.Stderr = os.Stderr
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Process.Signal(os.Interrupt)
			done := make(chan error, 1)
			go func() { done <- srv.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("socketserver after SIGINT: %v", err)
				}
			case <-time.After(10 * time.Second):
				srv.Process.Kill()
				<-done
				t.Error("socketserver did not stop on SIGINT")
			}
		})
	}
	t.Cleanup(stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("socketserver said %q", line)
	}
	return addr, stop
}
