package bundle

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rels(b *Bundle) []string {
	var out []string
	for _, f := range b.Files {
		out = append(out, f.Rel)
	}
	return out
}

func TestMake(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "mod", "pkg")
	write(t, filepath.Join(pkg, "a_test.go"), "package pkg")
	write(t, filepath.Join(pkg, "testdata", "deep", "in.txt"), "in")
	write(t, filepath.Join(pkg, "sub", "other.go"), "package sub") // another package: not shipped
	write(t, filepath.Join(root, "mod", "shared", "x.txt"), "shared")
	bin := filepath.Join(root, "pkg.test")
	write(t, bin, "binary")

	var sums Sums
	b, err := Make(bin, pkg, nil, &sums)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pkg/a_test.go", "pkg/testdata/deep/in.txt", "test.bin"}
	if got := rels(b); !equal(got, want) || b.PkgRel != "." {
		t.Errorf("files %v, pkg at %q; want %v at .", got, b.PkgRel, want)
	}
	// --rsyncdir: the tree starts at the directory holding both.
	b2, err := Make(bin, pkg, []string{filepath.Join(root, "mod", "shared")}, &sums)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"pkg/pkg/a_test.go", "pkg/pkg/testdata/deep/in.txt", "pkg/shared/x.txt", "test.bin"}
	if got := rels(b2); !equal(got, want) || b2.PkgRel != "pkg" {
		t.Errorf("with rsyncdir: files %v, pkg at %q; want %v at pkg", got, b2.PkgRel, want)
	}
	if b.Hash == b2.Hash {
		t.Error("different bundles, same hash")
	}
	// The hash follows content.
	again, _ := Make(bin, pkg, nil, &Sums{})
	write(t, filepath.Join(pkg, "testdata", "deep", "in.txt"), "changed")
	changed, _ := Make(bin, pkg, nil, &Sums{})
	if again.Hash != b.Hash || changed.Hash == b.Hash {
		t.Errorf("hashes: same content %v, changed content %v", again.Hash == b.Hash, changed.Hash != b.Hash)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStore(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "bundles")}
	const hash = "0123456789abcdef0123456789abcdef"
	if s.Have(hash) {
		t.Fatal("empty store has a bundle")
	}
	r, err := s.Receive(hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add("../escape", []byte("x"), 0o644); err == nil {
		t.Error("a path leaving the bundle was accepted")
	}
	if err := r.Add("pkg/testdata/in.txt", []byte("in"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s.Have(hash) {
		t.Error("a bundle is visible before Commit")
	}
	dir, err := r.Commit()
	if err != nil || dir != s.Dir(hash) || !s.Have(hash) {
		t.Fatalf("Commit: %s, %v, have %v", dir, err, s.Have(hash))
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "pkg", "testdata", "in.txt")); string(data) != "in" {
		t.Errorf("stored file: %q", data)
	}
	// A second receiver of the same bundle (another worker) loses the race
	// harmlessly.
	r2, _ := s.Receive(hash)
	if dir2, err := r2.Commit(); err != nil || dir2 != dir {
		t.Errorf("second Commit: %s, %v", dir2, err)
	}
	for _, bad := range []string{"", "../x", "ABC", "a/b"} {
		if _, err := s.Receive(bad); err == nil {
			t.Errorf("hash %q accepted", bad)
		}
	}
	// Prune: unused past MaxAge goes, dead transfers older than a day go.
	old := time.Now().Add(-MaxAge - time.Hour)
	os.Chtimes(filepath.Join(dir, completeMark), old, old)
	dead := filepath.Join(s.Root, hash+".tmp-1")
	os.MkdirAll(dead, 0o755)
	os.Chtimes(dead, old, old)
	fresh := filepath.Join(s.Root, "fedcba9876543210fedcba9876543210.tmp-2")
	os.MkdirAll(fresh, 0o755)
	s.Prune(time.Now())
	for path, want := range map[string]bool{dir: false, dead: false, fresh: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("after Prune, %s exists: %v, want %v", path, err == nil, want)
		}
	}
}
