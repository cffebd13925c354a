package testcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestMeasureKeys times the ways to a test binary's identity on a real
// module: TESTCACHE_MEASURE=DIR (a writable module, e.g. a copy of one
// from the module cache) go test -run MeasureKeys -v ./testcache/.
// The figures are in the package doc.
func TestMeasureKeys(t *testing.T) {
	dir := os.Getenv("TESTCACHE_MEASURE")
	if dir == "" {
		t.Skip("set TESTCACHE_MEASURE to a module directory")
	}
	ctx := context.Background()
	const reps = 5
	median := func(f func()) time.Duration {
		var ds []time.Duration
		for range reps {
			start := time.Now()
			f()
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[reps/2]
	}
	var keys map[string]PackageKey
	link := median(func() {
		var err error
		if keys, err = LinkKeys(ctx, KeyQuery{Dir: dir, Packages: []string{"./..."}}); err != nil {
			t.Fatal(err)
		}
	})
	bindir := t.TempDir()
	build := median(func() {
		cmd := exec.Command("go", "test", "-c", "-o", bindir+"/", "./...")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	bins, _ := filepath.Glob(filepath.Join(bindir, "*.test"))
	var size int64
	for _, b := range bins {
		fi, _ := os.Stat(b)
		size += fi.Size()
	}
	content := median(func() {
		for _, b := range bins {
			if _, err := ContentID(b); err != nil {
				t.Fatal(err)
			}
		}
	})
	whole := median(func() {
		for _, b := range bins {
			f, _ := os.Open(b)
			h := sha256.New()
			io.Copy(h, f)
			f.Close()
		}
	})
	cached := median(func() {
		cmd := exec.Command("go", "test", "-run=^$", "./...")
		cmd.Dir = dir
		cmd.Run()
	})
	t.Logf("%d test binaries (%.1f MB); medians of %d:", len(keys), float64(size)/1e6, reps)
	t.Logf("LinkKeys (go list -test -deps -export + go env), all packages: %v", link)
	t.Logf("go test -c -o DIR/ ./... (links every binary):                %v", build)
	t.Logf("ContentID of every binary (build ID note):                    %v", content)
	t.Logf("SHA-256 of every binary, for comparison:                      %v", whole)
	t.Logf("go test -run=^$ ./..., second run (cached), for comparison:   %v", cached)
}

// BenchmarkPut and BenchmarkGet: a package of 200 tests' events (~60 KB)
// and 20 recorded inputs.
func benchFixture(b *testing.B) (*Cache, Package, *Log, *Entry) {
	root := b.TempDir()
	dir := filepath.Join(root, "p")
	os.MkdirAll(filepath.Join(dir, "testdata"), 0o777)
	var tl bytes.Buffer
	tl.WriteString(testlogMagic)
	for i := range 20 {
		f := filepath.Join(dir, "testdata", fmt.Sprintf("f%d", i))
		os.WriteFile(f, bytes.Repeat([]byte("x"), 4096), 0o644)
		os.Chtimes(f, old, old)
		fmt.Fprintf(&tl, "open testdata/f%d\ngetenv V%d\n", i, i)
	}
	log, err := ParseLog(tl.Bytes(), dir)
	if err != nil {
		b.Fatal(err)
	}
	var ev bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&ev, `{"Time":"2026-12-02T07:01:06.994940979Z","Action":"run","Package":"example.com/p","Test":"Test%d"}
{"Time":"2026-12-02T07:01:06.994940979Z","Action":"output","Package":"example.com/p","Test":"Test%d","Output":"=== RUN   Test%d\n"}
{"Time":"2026-12-02T07:01:06.994940979Z","Action":"pass","Package":"example.com/p","Test":"Test%d","Elapsed":0}
`, i, i, i, i)
	}
	ev.Write(passEvents("example.com/p", "end"))
	c, _ := Open(b.TempDir(), Options{})
	return c, Package{ImportPath: "example.com/p", Dir: dir, Root: root, Env: []string{}}, log, &Entry{Events: ev.Bytes()}
}

func BenchmarkPut(b *testing.B) {
	c, pkg, log, e := benchFixture(b)
	for i := 0; b.Loop(); i++ {
		if err := c.Put(pkg, log, e, NewKey(ID{1, byte(i)}, nil)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	c, pkg, log, e := benchFixture(b)
	key := NewKey(ID{1}, nil)
	if err := c.Put(pkg, log, e, key); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Get(key, pkg, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplay(b *testing.B) {
	_, _, _, e := benchFixture(b)
	now := time.Now()
	for b.Loop() {
		if _, err := Replay(e.Events, now); err != nil {
			b.Fatal(err)
		}
	}
}
