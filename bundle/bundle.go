// Package bundle ships tests to workers that do not share the
// controller's filesystem.
//
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
package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Bundle is one package's bundle: its files and their hash.
type Bundle struct {
	Hash   string // of every file's path, mode and content
	PkgRel string // the package directory in the bundle's tree, slash-separated ("." for its root)
	Files  []File
}

// File is one file of a bundle.
type File struct {
	Rel  string // slash-separated path in the bundle: "test.bin", "pkg/x_test.go", "pkg/testdata/in.txt"
	Path string // on the controller
	Mode fs.FileMode
}

// Binary is the test binary's name in a bundle; the package files are
// under PkgDir.
const (
	Binary = "test.bin"
	PkgDir = "pkg"
)

// Make lists and hashes a package's bundle; extra are absolute
// directories shipped whole (--rsyncdir). sums caches file hashes by path
// for the run.
func Make(binary, pkgDir string, extra []string, sums *Sums) (*Bundle, error) {
	b := &Bundle{PkgRel: "."}
	seen := map[string]bool{}
	add := func(rel, path string, mode fs.FileMode) {
		if !seen[rel] {
			seen[rel] = true
			b.Files = append(b.Files, File{rel, path, mode})
		}
	}
	st, err := os.Stat(binary)
	if err != nil {
		return nil, err
	}
	add(Binary, binary, st.Mode())
	base := pkgDir
	for _, d := range extra {
		base = commonDir(base, d)
	}
	tree := func(dir string) string { // dir's place in the bundle
		rel, _ := filepath.Rel(base, dir)
		return path.Join(PkgDir, filepath.ToSlash(rel))
	}
	b.PkgRel = path.Clean(filepath.ToSlash(must(filepath.Rel(base, pkgDir))))
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
	slices.SortFunc(b.Files, func(x, y File) int { return strings.Compare(x.Rel, y.Rel) })
	h := sha256.New()
	for _, f := range b.Files {
		sum, err := sums.sum(f.Path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%o\x00%x\n", f.Rel, f.Mode.Perm(), sum)
	}
	b.Hash = hex.EncodeToString(h.Sum(nil))[:32]
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
		panic("bundle: " + err.Error())
	}
	return s
}

// Sums hashes each file once per run: --rsyncdir trees go into every
// package's bundle.
type Sums struct {
	mu sync.Mutex
	m  map[string][32]byte
}

func (s *Sums) sum(path string) ([32]byte, error) {
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

// Set makes each package's bundle once per run.
type Set struct {
	mu    sync.Mutex
	byPk  map[string]*bundleOnce
	Extra []string // directories shipped whole with every bundle (--rsyncdir), absolute
	sums  Sums
}

type bundleOnce struct {
	once sync.Once
	b    *Bundle
	err  error
}

// Get makes (once per key) the bundle of the package in dir with binary.
func (bs *Set) Get(key, binary, dir string) (*Bundle, error) {
	bs.mu.Lock()
	if bs.byPk == nil {
		bs.byPk = map[string]*bundleOnce{}
	}
	o := bs.byPk[key]
	if o == nil {
		o = &bundleOnce{}
		bs.byPk[key] = o
	}
	bs.mu.Unlock()
	o.once.Do(func() { o.b, o.err = Make(binary, dir, bs.Extra, &bs.sums) })
	return o.b, o.err
}
