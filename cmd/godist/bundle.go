package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/godist/godist/gotool"
)

// A bundle is what a test process needs on a worker that does not share
// the controller's filesystem: the test binary, and the package directory's
// files (its own files and its testdata tree), shipped under the hash of
// their contents into the worker machine's cache, once per machine: every
// worker of that machine shares it, and a later run with nothing changed
// ships nothing. Files outside the package directory (../shared/x, other
// packages' files) are shipped only from the directories --rsyncdir names
// (xdist's rsyncdirs): the bundle's tree then starts at the deepest
// directory holding the package and all of them, so that relative paths
// between them hold on the worker.
type bundle struct {
	hash   string
	pkgRel string // the package directory in the bundle's tree, slash-separated ("." for its root)
	files  []bundleFile
}

type bundleFile struct {
	rel  string // slash-separated path in the bundle: "test.bin", "pkg/x_test.go", "pkg/testdata/in.txt"
	path string // on the controller
	mode fs.FileMode
}

// bundleBinary is the test binary's name in a bundle; the package files are
// under bundlePkg.
const (
	bundleBinary = "test.bin"
	bundlePkg    = "pkg"
)

// makeBundle lists and hashes a package's bundle; extra are absolute
// directories shipped whole (--rsyncdir). sums caches file hashes by path
// for the run.
func makeBundle(binary, pkgDir string, extra []string, sums *fileSums) (*bundle, error) {
	b := &bundle{pkgRel: "."}
	seen := map[string]bool{}
	add := func(rel, path string, mode fs.FileMode) {
		if !seen[rel] {
			seen[rel] = true
			b.files = append(b.files, bundleFile{rel, path, mode})
		}
	}
	st, err := os.Stat(binary)
	if err != nil {
		return nil, err
	}
	add(bundleBinary, binary, st.Mode())
	base := pkgDir
	for _, d := range extra {
		base = commonDir(base, d)
	}
	tree := func(dir string) string { // dir's place in the bundle
		rel, _ := filepath.Rel(base, dir)
		return path.Join(bundlePkg, filepath.ToSlash(rel))
	}
	b.pkgRel = path.Clean(filepath.ToSlash(must(filepath.Rel(base, pkgDir))))
	walk := func(root string, keep func(rel string) bool) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				if p == root || keep(rel) {
					return nil
				}
				return filepath.SkipDir
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			add(tree(root)+"/"+filepath.ToSlash(rel), p, info.Mode())
			return nil
		})
	}
	// The package's own directory and its testdata tree; other directories
	// are other packages.
	err = walk(pkgDir, func(rel string) bool {
		return rel == "testdata" || strings.HasPrefix(rel, "testdata"+string(filepath.Separator))
	})
	if err != nil {
		return nil, fmt.Errorf("bundle of %s: %w", pkgDir, err)
	}
	for _, d := range extra {
		if err := walk(d, func(rel string) bool { return filepath.Base(rel) != ".git" }); err != nil {
			return nil, fmt.Errorf("bundle of %s: --rsyncdir: %w", pkgDir, err)
		}
	}
	slices.SortFunc(b.files, func(x, y bundleFile) int { return strings.Compare(x.rel, y.rel) })
	h := sha256.New()
	for _, f := range b.files {
		sum, err := sums.sum(f.path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%o\x00%x\n", f.rel, f.mode.Perm(), sum)
	}
	b.hash = hex.EncodeToString(h.Sum(nil))[:32]
	return b, nil
}

// commonDir is the deepest directory holding both absolute paths a and b.
func commonDir(a, b string) string {
	for {
		if rel, err := filepath.Rel(a, b); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return a
		}
		parent := filepath.Dir(a)
		if parent == a {
			return a
		}
		a = parent
	}
}

func must(s string, err error) string {
	if err != nil {
		panic("godist: " + err.Error())
	}
	return s
}

// fileSums hashes each file once per run: --rsyncdir trees go into every
// package's bundle.
type fileSums struct {
	mu sync.Mutex
	m  map[string][32]byte
}

func (s *fileSums) sum(path string) ([32]byte, error) {
	s.mu.Lock()
	sum, ok := s.m[path]
	s.mu.Unlock()
	if ok {
		return sum, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return sum, err
	}
	sum = sha256.Sum256(data)
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string][32]byte{}
	}
	s.m[path] = sum
	s.mu.Unlock()
	return sum, nil
}

// bundles makes each package's bundle once per run.
type bundles struct {
	mu    sync.Mutex
	byPk  map[string]*bundleOnce
	extra []string // --rsyncdir, absolute
	sums  fileSums
}

type bundleOnce struct {
	once sync.Once
	b    *bundle
	path string // crossBuild's binary
	err  error
}

func (bs *bundles) get(pkg, binary, dir string) (*bundle, error) {
	bs.mu.Lock()
	if bs.byPk == nil {
		bs.byPk = map[string]*bundleOnce{}
	}
	o := bs.byPk[pkg]
	if o == nil {
		o = &bundleOnce{}
		bs.byPk[pkg] = o
	}
	bs.mu.Unlock()
	o.once.Do(func() { o.b, o.err = makeBundle(binary, dir, bs.extra, &bs.sums) })
	return o.b, o.err
}

// ensure makes sure the worker has bundle b and returns the bundle's
// directory there and the bytes it took to ship it (0 when the worker's
// machine had it).
func (g *gatewayRunner) ensure(ctx context.Context, b *bundle) (string, int64, error) {
	g.bmu.Lock()
	defer g.bmu.Unlock()
	if dir, ok := g.have[b.hash]; ok {
		return dir, 0, nil
	}
	if err := g.ch.Send(ctx, map[string]any{"bundle": b.hash}); err != nil {
		return "", 0, g.lost(err)
	}
	reply, err := g.reply(ctx)
	if err != nil {
		return "", 0, err
	}
	dir, _ := reply["dir"].(string)
	var shipped int64
	if have, _ := reply["have"].(bool); !have {
		for _, f := range b.files {
			data, err := os.ReadFile(f.path)
			if err != nil {
				return "", shipped, err // the controller's problem: the worker waits for "done"
			}
			if err := g.ch.Send(ctx, map[string]any{"file": f.rel, "data": data, "mode": int64(f.mode.Perm())}); err != nil {
				return "", shipped, g.lost(err)
			}
			shipped += int64(len(data))
		}
		if err := g.ch.Send(ctx, map[string]any{"done": true}); err != nil {
			return "", shipped, g.lost(err)
		}
		stored, err := g.reply(ctx)
		if err != nil {
			return "", shipped, err
		}
		dir, _ = stored["stored"].(string)
	}
	if g.have == nil {
		g.have = map[string]string{}
	}
	g.have[b.hash] = dir
	return dir, shipped, nil
}

// reply receives the runner's answer to a bundle request.
func (g *gatewayRunner) reply(ctx context.Context) (map[string]any, error) {
	v, err := g.ch.Receive(ctx)
	if err != nil {
		return nil, g.lost(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("gateway %s: test runner answered %T to a bundle", g.gw.ID(), v)
	}
	if msg, _ := m["error"].(string); msg != "" {
		return nil, fmt.Errorf("gateway %s: storing a test bundle: %s", g.gw.ID(), msg)
	}
	return m, nil
}

// hostPlatform is the controller's GOOS/GOARCH.
var hostPlatform = runtime.GOOS + "/" + runtime.GOARCH

// crossBuild builds pkg's test binary for another platform ("linux/386"),
// once per run, for workers of that platform.
func (r *testRun) crossBuild(ctx context.Context, pkg *gotool.Package, platform string) (string, error) {
	r.mu.Lock()
	if r.cross == nil {
		r.cross = map[string]*bundleOnce{}
	}
	o := r.cross[pkg.ImportPath+" "+platform]
	if o == nil {
		o = &bundleOnce{}
		r.cross[pkg.ImportPath+" "+platform] = o
	}
	r.mu.Unlock()
	o.once.Do(func() {
		goos, goarch, _ := strings.Cut(platform, "/")
		out := filepath.Join(r.workDir, goos+"_"+goarch)
		if o.err = os.MkdirAll(out, 0o755); o.err != nil {
			return
		}
		res := gotool.Build(ctx, gotool.BuildRequest{Pkg: pkg, OutDir: out, BuildFlags: r.buildFlags(),
			Env: append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch)})
		if res.Err != nil {
			o.err = fmt.Errorf("building %s for %s: %v\n%s", pkg.ImportPath, platform, res.Err, res.Output)
			return
		}
		o.path = res.Binary
	})
	return o.path, o.err
}
