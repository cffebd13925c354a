package isolate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const fixtureModule = "example.com/fixture/isolation/"

func fixtureDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "isolation"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// goCmd is a go command in the fixture module, the user's go environment
// kept out.
func goCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = fixtureDir(t)
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS="), env...)
	return cmd
}

// TestFixturesUnderGoTest runs each fixture package with real go test:
// all pass as go test runs them but alwaysfail, and TestMain runs once.
func TestFixturesUnderGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fixture module")
	}
	mainLog := filepath.Join(t.TempDir(), "main.log")
	cmd := goCmd(t, []string{"ISOLATION_FIXTURE_MAIN_LOG=" + mainLog}, "test", "-count=1", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
		t.Fatalf("go test: %v, want exit status 1 (alwaysfail)\n%s%s", err, out, stderr.Bytes())
	}
	got := map[string]string{} // "pkg" or "pkg.Test": action
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var e struct{ Action, Package, Test string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %q", err, sc.Bytes())
		}
		if e.Action != "pass" && e.Action != "fail" && e.Action != "skip" {
			continue
		}
		key := strings.TrimPrefix(e.Package, fixtureModule)
		if e.Test != "" {
			key += "." + e.Test
		}
		got[key] = e.Action
	}
	want := map[string]string{
		"fixedport": "pass", "fixedport.TestServerA": "pass", "fixedport.TestServerB": "pass",
		"counter": "pass", "counter.TestNodeA": "pass", "counter.TestNodeB": "pass", "counter.TestNodeC": "pass",
		"scratchfile": "pass", "scratchfile.TestScratchA": "pass", "scratchfile.TestScratchB": "pass",
		"order": "pass", "order.TestSetup": "pass", "order.TestUse": "pass", "order.TestIndependent": "pass",
		"mainonce": "pass", "mainonce.TestOne": "pass", "mainonce.TestTwo": "pass",
		"alwaysfail": "fail", "alwaysfail.TestAlwaysFails": "fail", "alwaysfail.TestPasses": "pass",
		"internal/hold": "skip",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected outcome %s: %s", k, got[k])
		}
	}
	log, err := os.ReadFile(mainLog)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "TestMain pid"); n != 1 {
		t.Errorf("TestMain ran %d times under go test, want once:\n%s", n, log)
	}
}

// TestFixturesCollide runs two processes of the fixedport and counter
// fixtures at the same time, each with another test: without isolation
// they collide on the address, each in a namespace of its own both pass.
func TestFixturesCollide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fixture module")
	}
	needRoot(t)
	bin := t.TempDir()
	build := goCmd(t, nil, "test", "-c", "-o", bin+string(filepath.Separator), "./fixedport", "./counter")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	for _, pkg := range []struct{ name, testA, testB string }{
		{"fixedport", "TestServerA", "TestServerB"},
		{"counter", "TestNodeA", "TestNodeB"},
	} {
		for _, mode := range []Mode{None, NetRoot, NetUser} {
			t.Run(pkg.name+"/"+mode.String(), func(t *testing.T) {
				procs := make([]*fixtureProc, 2)
				for i, test := range []string{pkg.testA, pkg.testB} {
					procs[i] = startFixture(t, filepath.Join(bin, pkg.name+".test"), filepath.Join(fixtureDir(t), pkg.name), test, mode)
				}
				failed, collided := 0, false
				for _, p := range procs {
					err := p.cmd.Wait()
					p.w.Cleanup()
					if err != nil {
						failed++
						collided = collided || strings.Contains(p.out.String(), "address already in use")
					}
					t.Logf("%s: %v\n%s", p.test, err, p.out.Bytes())
				}
				switch {
				case mode == None && (failed == 0 || !collided):
					t.Errorf("without isolation: %d of 2 failed, collided %v; want a collision", failed, collided)
				case mode != None && failed != 0:
					t.Errorf("isolated %s: %d of 2 failed, want none", mode, failed)
				}
			})
		}
	}
}

type fixtureProc struct {
	test string
	cmd  *exec.Cmd
	w    *Wrapped
	out  bytes.Buffer
}

// startFixture starts a fixture test binary as a launcher would: in the
// package directory, its own process group, dying with us.
func startFixture(t *testing.T, binary, dir, test string, mode Mode) *fixtureProc {
	t.Helper()
	argv := []string{binary, "-test.run=^" + test + "$", "-test.v"}
	env := append(os.Environ(), "ISOLATION_FIXTURE_HOLD=500ms")
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	w, err := Wrap(argv, env, sys, Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	p := &fixtureProc{test: test, w: w}
	p.cmd = exec.Command(w.Argv[0], w.Argv[1:]...)
	p.cmd.Dir, p.cmd.Env, p.cmd.SysProcAttr = dir, w.Env, w.SysProcAttr
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.WaitDelay = 5 * time.Second
	if err := w.Start(p.cmd); err != nil {
		w.Cleanup()
		t.Fatal(err)
	}
	return p
}
