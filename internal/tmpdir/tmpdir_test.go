//go:build unix

package tmpdir

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const helperEnv = "GODIST_TMPDIR_HELPER"

func TestMain(m *testing.M) {
	if root := os.Getenv(helperEnv); root != "" {
		// A process that makes a directory and holds it until killed.
		d, err := Make(root, "godist-run-")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(d.Path)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a process holding a directory in root and returns it and
// the directory.
func holder(t *testing.T, root string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, root) {
		t.Fatalf("holder said %q, %v", line, err)
	}
	return cmd, strings.TrimSpace(line)
}

func age(t *testing.T, path string) {
	t.Helper()
	old := time.Now().Add(-2 * MinAge)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

// A directory is swept once the process holding it is killed, never
// before; young ones and others' names are left alone.
func TestSweep(t *testing.T) {
	root := t.TempDir()
	cmd, held := holder(t, root)
	os.WriteFile(filepath.Join(held, "f"), []byte("x"), 0o644)
	age(t, held)
	for _, name := range []string{"godist-e2e-1", "godist-isolate-young", "godist-gopath-old"} {
		if err := os.Mkdir(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	age(t, filepath.Join(root, "godist-e2e-1"))
	age(t, filepath.Join(root, "godist-gopath-old"))
	os.WriteFile(filepath.Join(root, "godist-run-file"), nil, 0o644)

	if n := Sweep(root); n != 1 || exists(filepath.Join(root, "godist-gopath-old")) {
		t.Errorf("first sweep removed %d, want only the unheld old godist-gopath-old", n)
	}
	if !exists(held) {
		t.Fatal("swept a directory its process holds")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n := Sweep(root); n != 1 || exists(held) {
		t.Errorf("after its holder was killed: removed %d, %s exists %v", n, held, exists(held))
	}
	for _, name := range []string{"godist-e2e-1", "godist-isolate-young", "godist-run-file"} {
		if !exists(filepath.Join(root, name)) {
			t.Errorf("swept %s", name)
		}
	}
}

func TestMakeRemove(t *testing.T) {
	root := t.TempDir()
	d, err := Make(root, "godist-isolate-")
	if err != nil {
		t.Fatal(err)
	}
	age(t, d.Path)
	if Sweep(root) != 0 || !exists(d.Path) {
		t.Fatal("swept a directory this process holds")
	}
	if err := d.Remove(); err != nil || exists(d.Path) {
		t.Errorf("Remove: %v, exists %v", err, exists(d.Path))
	}
	if _, err := Make(root, "other-"); err == nil {
		t.Error("Make with an unknown prefix: no error")
	}
}
