package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/internal/sshtest"
)

// otherTarget is a linux platform other than this one, and its ELF
// machine: linux/386 on amd64, which TestSSHOtherPlatformSelfBuild builds
// too, so that the go build cache serves the second build.
func otherTarget() (goos, goarch string, machine elf.Machine) {
	switch {
	case runtime.GOOS == "linux" && runtime.GOARCH == "arm64":
		return "linux", "amd64", elf.EM_X86_64
	case runtime.GOARCH == "amd64":
		return "linux", "386", elf.EM_386
	}
	return "linux", "arm64", elf.EM_AARCH64
}

func selfBuildCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// noSource is a selfBuilder's source that must not be asked for.
func noSource() (selfSource, error) { return selfSource{}, errors.New("test: no source") }

// The hook builds godist for another platform from this checkout, once for
// callers asking at the same time, and another process (a new builder) of
// the same godist binary finds it in the cache.
func TestSelfBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles godist")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	goos, goarch, machine := otherTarget()
	src, err := thisSource()
	if err != nil || src.dir == "" {
		t.Fatalf("the test binary's source: %v, %v; want this checkout", src, err)
	}
	var log bytes.Buffer
	b := &selfBuilder{log: &log, source: thisSource}
	paths := make([]string, 4)
	errs := make([]error, 4)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range paths {
		wg.Go(func() { paths[i], errs[i] = b.workerFor(selfBuildCtx(t), goos, goarch) })
	}
	wg.Wait()
	t.Logf("built in %v: %s", time.Since(start).Round(time.Millisecond), log.String())
	for i := range paths {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if paths[i] != paths[0] {
			t.Errorf("paths %q differ", paths)
		}
	}
	if n := strings.Count(log.String(), "building godist for "+goos+"/"+goarch); n != 1 {
		t.Errorf("%d builds for 4 callers at once, want 1: %s", n, log.String())
	}
	f, err := elf.Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != machine {
		t.Errorf("%s is for %v, want %v", paths[0], f.Machine, machine)
	}
	f.Close()
	if !strings.HasPrefix(filepath.Base(paths[0]), "godist-"+goos+"-"+goarch+"-") {
		t.Errorf("cached as %s", paths[0])
	}

	st, err := os.Stat(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var log2 bytes.Buffer
	b2 := &selfBuilder{log: &log2, source: noSource}
	p, err := b2.workerFor(selfBuildCtx(t), goos, goarch)
	if err != nil || p != paths[0] || log2.Len() != 0 {
		t.Errorf("second process: %q, %v, log %q; want the cached %s", p, err, log2.String(), paths[0])
	}
	if st2, err := os.Stat(p); err != nil || !os.SameFile(st, st2) {
		t.Errorf("the cached build was replaced: %v", err)
	}
}

// A failed build names the platform and carries go's output; a missing
// source says how to provide a binary; both are remembered.
func TestSelfBuildErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	goos, goarch, _ := otherTarget()
	broken := t.TempDir() // our module without cmd/godist
	if err := os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module "+selfModule+"\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		source func() (selfSource, error)
		want   []string
	}{
		{"no source", noSource, []string{"no godist for " + goos + "/" + goarch + ": test: no source",
			"GOOS=" + goos + " GOARCH=" + goarch + " CGO_ENABLED=0 go build", "set " + workerEnvFor(goos, goarch) + "=FILE"}},
		{"build fails", func() (selfSource, error) { return selfSource{dir: broken}, nil },
			[]string{"building godist for " + goos + "/" + goarch + ": go build", "cmd/godist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var log bytes.Buffer
			b := &selfBuilder{log: &log, source: func() (selfSource, error) { calls++; return tc.source() }}
			for range 2 {
				p, err := b.workerFor(selfBuildCtx(t), goos, goarch)
				if err == nil {
					t.Fatalf("got %s", p)
				}
				t.Log(err)
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
			}
			if calls != 1 {
				t.Errorf("source asked %d times, want once", calls)
			}
		})
	}
}

// $GODIST_WORKER_<GOOS>_<GOARCH> names a prebuilt worker.
func TestWorkerForEnv(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "godist-linux-riscv64")
	if err := os.WriteFile(bin, []byte("a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := &selfBuilder{log: os.Stderr, source: noSource}
	name := workerEnvFor("linux", "riscv64")
	if name != "GODIST_WORKER_LINUX_RISCV64" {
		t.Errorf("env name %s", name)
	}
	t.Setenv(name, bin)
	if p, err := b.workerFor(context.Background(), "linux", "riscv64"); p != bin || err != nil {
		t.Errorf("workerFor with $%s: %q, %v", name, p, err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), dir} {
		t.Setenv(name, bad)
		if _, err := b.workerFor(context.Background(), "linux", "riscv64"); err == nil || !strings.Contains(err.Error(), "$"+name+"=") {
			t.Errorf("workerFor with $%s=%s: %v, want an error naming it", name, bad, err)
		}
	}
	if _, err := b.workerFor(context.Background(), "linux", "../x"); err == nil {
		t.Error("a bad platform was accepted")
	}
}

func TestSourceOf(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(here), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// A module cache copy: .../github.com/godist/godist@v1.2.3.
	modcache := filepath.Join(t.TempDir(), "github.com", "godist", "godist@v1.2.3")
	other := t.TempDir()
	for dir, mod := range map[string]string{modcache: selfModule, other: "example.com/fork"} {
		if err := os.MkdirAll(filepath.Join(dir, "cmd", "godist"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("// comment\nmodule "+mod+" // trailing\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := func(path, version string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: path, Version: version}}
	}
	trimmed := selfModule + "/cmd/godist/selfbuild.go"
	for _, tc := range []struct {
		name    string
		info    *debug.BuildInfo
		file    string
		want    selfSource
		wantErr string
	}{
		{"checkout", info(selfModule, "(devel)"), here, selfSource{dir: root}, ""},
		{"checkout with a vcs version", info(selfModule, "v0.0.0-20250101000000-abcdefabcdef+dirty"), here, selfSource{dir: root}, ""},
		{"go install @version", info(selfModule, "v1.2.3"), filepath.Join(modcache, "cmd", "godist", "selfbuild.go"), selfSource{version: "v1.2.3"}, ""},
		{"trimpath release", info(selfModule, "v1.2.3"), trimmed, selfSource{version: "v1.2.3"}, ""},
		{"trimpath devel", info(selfModule, "(devel)"), trimmed, selfSource{}, `version "(devel)"`},
		{"trimpath dirty", info(selfModule, "v0.0.0-20250101000000-abcdefabcdef+dirty"), trimmed, selfSource{}, "no module version to fetch"},
		{"source gone", info(selfModule, ""), "/nonexistent/cmd/godist/selfbuild.go", selfSource{}, "/nonexistent/cmd/godist/selfbuild.go"},
		{"inside another module", info(selfModule, "(devel)"), filepath.Join(other, "cmd", "godist", "selfbuild.go"), selfSource{}, "no module version"},
		{"another main module", info("example.com/fork", "v1.0.0"), here, selfSource{}, `module "example.com/fork"`},
		{"no build info", nil, here, selfSource{}, "no build information"},
	} {
		got, err := sourceOf(tc.info, tc.file)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v, %v; want an error with %q", tc.name, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// TestSSHOtherPlatformSelfBuild: a linux/386 godist (this amd64 machine
// runs it) reaches the loopback sshd, whose uname says x86_64: it builds a
// linux/amd64 godist from this checkout, ships that instead of itself, and
// the code runs there; a second run finds both caches filled.
func TestSSHOtherPlatformSelfBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles godist twice")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs linux/amd64, which runs linux/386 binaries")
	}
	s := sshtest.Start(t, "")
	tmp := t.TempDir()
	bin386 := filepath.Join(tmp, "godist386")
	build := exec.Command("go", "build", "-o", bin386, ".")
	build.Env = append(os.Environ(), "GOARCH=386")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building godist for linux/386: %v\n%s", err, out)
	}
	cache := filepath.Join(tmp, "controller-cache")
	src := "import \"runtime\"\nchannel.Send(runtime.GOOS + \"/\" + runtime.GOARCH)\n"
	exec386 := func(run int) string {
		cmd := exec.Command(bin386, "exec", "--start-timeout", "5m", "--tx", "2*"+s.Spec(""), "-")
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
		cmd.Stdin = strings.NewReader(src)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		t.Logf("run %d took %v; stderr:\n%s", run, time.Since(start).Round(time.Millisecond), stderr.String())
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if got, want := stdout.String(), "gw0 \"linux/amd64\"\ngw1 \"linux/amd64\"\n"; got != want && got != "gw1 \"linux/amd64\"\ngw0 \"linux/amd64\"\n" {
			t.Errorf("run %d: stdout %q, want %q", run, got, want)
		}
		return stderr.String()
	}
	if got := exec386(1); strings.Count(got, "building godist for linux/amd64") != 1 {
		t.Errorf("first run: want one build of godist for linux/amd64")
	}
	if got := exec386(2); strings.Contains(got, "building") {
		t.Errorf("second run built again")
	}

	built, _ := filepath.Glob(filepath.Join(cache, "godist", "selfbuild", "godist-linux-amd64-*"))
	if len(built) != 1 {
		t.Fatalf("controller's builds: %q, want one", built)
	}
	data, err := os.ReadFile(built[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	shipped := filepath.Join(s.Cache, "godist", "bin", "godist-"+hex.EncodeToString(sum[:]))
	ents, _ := os.ReadDir(filepath.Join(s.Cache, "godist", "bin"))
	if len(ents) != 1 || ents[0].Name() != filepath.Base(shipped) {
		t.Errorf("remote cache holds %v, want only %s (the amd64 build)", ents, filepath.Base(shipped))
	}
	f, err := elf.Open(shipped)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("shipped worker is for %v", f.Machine)
	}
}
