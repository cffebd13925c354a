package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A program that runs godist's run in-process without calling the
// MainIf helpers first (this test binary) builds and tests without them:
// it must not start itself as go test's -exec shim, which would run its
// own tests again, and again.
func TestRunInProcessWithoutHelpers(t *testing.T) {
	dir := fixture(t, "basic")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := command([]string{"-C", dir, "--history", filepath.Join(t.TempDir(), "h.json"), "--dist", "no", "./pass/"}, nil, &stdout, &stderr)
	os.Chdir(wd)
	if code != 0 || !strings.Contains(stdout.String(), "ok  \texample.com/fixture/basic/pass") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}
