package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/internal/proc"
)

// Worker binaries for ssh hosts of another platform: godist's
// gateway.Options.WorkerFor. An ssh gateway ships the running godist; a
// host whose uname says another GOOS/GOARCH gets, in order of preference,
//
//  1. the file named by $GODIST_WORKER_<GOOS>_<GOARCH> (say
//     GODIST_WORKER_LINUX_ARM64=/opt/godist-linux-arm64), used as is;
//  2. godist built for it (CGO_ENABLED=0, stripped) from the checkout this
//     godist was built from, found through this file's compile-time path;
//  3. godist built for it from the module proxy, at this godist's module
//     version (go install github.com/godist/godist/cmd/godist@VERSION);
//
// else an error saying how to provide one. Builds are kept in the user
// cache dir (godist/selfbuild/godist-GOOS-GOARCH-<hash of this godist>), so
// a platform is built once per godist binary; gateways opened together wait
// for one build of their platform. A build is bounded by the context of the
// Open that asked for it (the workers' start timeout): go keeps the packages
// it compiled, so a retry gets further. A checkout is built as it is now,
// which may differ from what the running godist was built from; a worker
// too different fails the handshake with a *gateway.VersionError.

// selfModule is the module godist is built from.
const selfModule = "github.com/godist/godist"

// selfBuildKeep is how long a build for another godist binary is kept
// after its last use.
const selfBuildKeep = 7 * 24 * time.Hour

// workerEnvFor names the environment variable holding a prebuilt worker
// for goos/goarch.
func workerEnvFor(goos, goarch string) string {
	return "GODIST_WORKER_" + strings.ToUpper(goos) + "_" + strings.ToUpper(goarch)
}

// selfBuilder hands out worker binaries per platform; one per process
// (selfBuilds), more in tests.
type selfBuilder struct {
	log    io.Writer // told when a build starts
	source func() (selfSource, error)

	mu sync.Mutex
	m  map[string]*selfBuildEntry // by GOOS/GOARCH
}

type selfBuildEntry struct {
	slot chan struct{} // one token: held while looking up or building
	path string        // the binary, once known
	err  error         // a failed build, not retried by this process
}

var selfBuilds = &selfBuilder{log: os.Stderr, source: thisSource}

// workerFor is gateway.DefaultOptions.WorkerFor.
func workerFor(ctx context.Context, goos, goarch string) (string, error) {
	return selfBuilds.workerFor(ctx, goos, goarch)
}

var platformPart = regexp.MustCompile(`^[a-z0-9]+$`)

func (b *selfBuilder) workerFor(ctx context.Context, goos, goarch string) (string, error) {
	if !platformPart.MatchString(goos) || !platformPart.MatchString(goarch) {
		return "", fmt.Errorf("bad platform %q/%q", goos, goarch)
	}
	platform := goos + "/" + goarch
	if name := workerEnvFor(goos, goarch); os.Getenv(name) != "" {
		path := os.Getenv(name)
		st, err := os.Stat(path)
		if err == nil && !st.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		if err != nil {
			return "", fmt.Errorf("$%s=%q: %w", name, path, err)
		}
		return filepath.Abs(path)
	}
	e := b.entry(platform)
	select {
	case e.slot <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the build of godist for %s: %w", platform, ctx.Err())
	}
	defer func() { <-e.slot }()
	if e.path != "" || e.err != nil {
		return e.path, e.err
	}
	path, err := b.find(ctx, goos, goarch)
	if err != nil {
		if ctx.Err() == nil {
			e.err = err
		}
		return "", err
	}
	e.path = path
	return path, nil
}

func (b *selfBuilder) entry(platform string) *selfBuildEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[platform]
	if e == nil {
		e = &selfBuildEntry{slot: make(chan struct{}, 1)}
		if b.m == nil {
			b.m = map[string]*selfBuildEntry{}
		}
		b.m[platform] = e
	}
	return e
}

// find returns the cached build for the platform, or builds it.
func (b *selfBuilder) find(ctx context.Context, goos, goarch string) (string, error) {
	platform := goos + "/" + goarch
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("building godist for %s: %w", platform, err)
	}
	out, err := selfBuildPath(goos, goarch)
	if err != nil {
		return fail(err)
	}
	if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
		now := time.Now()
		os.Chtimes(out, now, now) // last use, for pruneSelfBuilds
		return out, nil
	}
	src, err := b.source()
	if err != nil {
		return "", fmt.Errorf("no godist for %s: %w; build one (GOOS=%s GOARCH=%s CGO_ENABLED=0 go build -o FILE %s/cmd/godist) and set %s=FILE",
			platform, err, goos, goarch, selfModule, workerEnvFor(goos, goarch))
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fail(err)
	}
	fmt.Fprintf(b.log, "godist: building godist for %s hosts from %s (once; kept in %s)\n", platform, src, out)
	start := time.Now()
	if err := src.build(ctx, goos, goarch, out); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up after %v; go keeps what it compiled, so the next try gets further, or set %s to a godist built for %s)",
				err, time.Since(start).Round(time.Second), workerEnvFor(goos, goarch), platform)
		}
		return fail(err)
	}
	pruneSelfBuilds(filepath.Dir(out), out)
	return out, nil
}

// selfBuildPath is where the build of this godist for goos/goarch is kept.
func selfBuildPath(goos, goarch string) (string, error) {
	dir := os.Getenv("XDG_CACHE_HOME")
	if !filepath.IsAbs(dir) {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	sum, err := executableHash()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "godist", "selfbuild", "godist-"+goos+"-"+goarch+"-"+sum[:16]), nil
}

// executableHash is the hex sha256 of the running godist.
var executableHash = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})

// pruneSelfBuilds removes builds for other godist binaries unused for
// selfBuildKeep, and leftovers of interrupted builds.
func pruneSelfBuilds(dir, keep string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil || p == keep || !strings.HasPrefix(e.Name(), "godist-") || time.Since(info.ModTime()) < selfBuildKeep {
			continue
		}
		os.RemoveAll(p)
	}
}

// selfSource is what godist can be rebuilt from: a checkout of its module
// (dir), or a module version to fetch.
type selfSource struct {
	dir     string
	version string
}

func (s selfSource) String() string {
	if s.dir != "" {
		return s.dir
	}
	return selfModule + "@" + s.version
}

// thisSource is the running godist's selfSource.
func thisSource() (selfSource, error) {
	info, _ := debug.ReadBuildInfo()
	_, file, _, _ := runtime.Caller(0)
	return sourceOf(info, file)
}

// sourceOf finds where a godist with build info info, whose selfbuild.go
// was compiled from file, can be rebuilt from.
func sourceOf(info *debug.BuildInfo, file string) (selfSource, error) {
	if info == nil {
		return selfSource{}, errors.New("this godist has no build information")
	}
	if info.Main.Path != selfModule {
		return selfSource{}, fmt.Errorf("this godist was built as part of module %q, not %s", info.Main.Path, selfModule)
	}
	// A checkout, not a module cache copy (whose directory is
	// .../godist@VERSION: built from the proxy below, in a module that
	// can be written to).
	if root := moduleRoot(file); root != "" && !strings.Contains(filepath.Base(root), "@") {
		return selfSource{dir: root}, nil
	}
	v := info.Main.Version
	if v != "" && v != "(devel)" && strings.HasPrefix(v, "v") && !strings.HasSuffix(v, "+dirty") {
		return selfSource{version: v}, nil
	}
	return selfSource{}, fmt.Errorf("this godist (version %q) was built from a source tree that is gone (%s) and has no module version to fetch", v, file)
}

// moduleRoot is the directory above file whose go.mod declares selfModule,
// or "".
func moduleRoot(file string) string {
	if !filepath.IsAbs(file) {
		return "" // -trimpath
	}
	for dir := filepath.Dir(file); ; {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if modulePath(data) == selfModule {
				return dir
			}
			return "" // the first go.mod up is the module this file is in
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modulePath is the path of go.mod's module directive.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`+"`")
		}
	}
	return ""
}

// build builds godist for goos/goarch into out (atomically: a godist
// started meanwhile sees the whole file or none).
func (s selfSource) build(ctx context.Context, goos, goarch, out string) error {
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	defer os.Remove(tmp)
	env := append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	if goarch == "arm" && os.Getenv("GOARM") == "" {
		env = append(env, "GOARM=6") // runs on ARMv6 (Raspberry Pi Zero) and v7 alike
	}
	// Stripped: the worker is shipped over ssh (stack traces keep their
	// file:line, from the pclntab).
	ldflags := "-ldflags=-s -w"
	if s.dir != "" {
		if err := goCommand(ctx, s.dir, env, "build", "-buildvcs=false", ldflags, "-o", tmp, "./cmd/godist"); err != nil {
			return err
		}
	} else {
		mod, err := os.MkdirTemp("", "godist-selfbuild-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(mod)
		env = append(env, "GOWORK=off", "GOFLAGS=-mod=mod")
		for _, args := range [][]string{
			{"mod", "init", "godist-selfbuild"},
			{"get", selfModule + "@" + s.version},
			{"build", ldflags, "-o", tmp, selfModule + "/cmd/godist"},
		} {
			if err := goCommand(ctx, mod, env, args...); err != nil {
				return err
			}
		}
	}
	return os.Rename(tmp, out)
}

// goCommand runs go with args in dir; its error carries the tail of go's
// output.
func goCommand(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, env
	// The whole group: go's compile and link children too.
	proc.Group(cmd, proc.Options{})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := fmt.Sprintf("go %s (in %s): %v", strings.Join(args, " "), dir, err)
		if tail := outputTail(out.String(), 20, 2000); tail != "" {
			msg += "\n" + tail
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", msg, ctx.Err())
		}
		return errors.New(msg)
	}
	return nil
}

// outputTail is the last lines (at most maxBytes) of a command's output.
func outputTail(s string, lines, maxBytes int) string {
	s = strings.TrimSpace(s)
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
