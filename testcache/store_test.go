package testcache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

func passEvents(pkg, marker string) []byte {
	return []byte(fmt.Sprintf(`{"Action":"start","Package":%q}
{"Action":"output","Package":%q,"Output":"%s\n"}
{"Action":"output","Package":%q,"Output":"ok  \t%s\t0.010s\n"}
{"Action":"pass","Package":%q,"Elapsed":0.01}
`, pkg, pkg, marker, pkg, pkg, pkg))
}

// storeFixture is a package directory with one input file, old enough.
func storeFixture(t *testing.T) (Package, *Log) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "p")
	os.MkdirAll(dir, 0o777)
	f := filepath.Join(dir, "in.txt")
	os.WriteFile(f, []byte("in"), 0o666)
	os.Chtimes(f, old, old)
	log, err := ParseLog([]byte(testlogMagic+"open in.txt\ngetenv HOME\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	return Package{ImportPath: "example.com/p", Dir: dir, Root: root, Env: []string{"HOME=/h"}}, log
}

func TestPutGet(t *testing.T) {
	pkg, log := storeFixture(t)
	c, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := NewKey(ID{1}, []string{"-test.timeout=10m0s"})
	if _, err := c.Get(key, pkg, false); !errors.Is(err, ErrMiss) {
		t.Fatalf("empty cache: %v, want ErrMiss", err)
	}
	e := &Entry{Events: passEvents(pkg.ImportPath, "x"), CoverProfile: []byte("mode: set\n"), Coverage: "coverage: 50.0% of statements", Elapsed: time.Second}
	if err := c.Put(pkg, log, e, key); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(key, pkg, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Events, e.Events) || !bytes.Equal(got.CoverProfile, e.CoverProfile) || got.Coverage != e.Coverage || got.Elapsed != e.Elapsed || !got.Created.Equal(e.Created) {
		t.Errorf("Get = %+v, want %+v", got, e)
	}
	if _, err := c.Get(NewKey(ID{1}, nil), pkg, false); !errors.Is(err, ErrMiss) {
		t.Errorf("other key: %v, want ErrMiss", err)
	}
	pkg2 := pkg
	pkg2.Env = []string{"HOME=/other"}
	if _, err := c.Get(key, pkg2, false); !errors.Is(err, ErrMiss) {
		t.Errorf("env changed: %v, want ErrMiss", err)
	}

	// Without a profile, a run asking for one misses.
	e2 := &Entry{Events: passEvents(pkg.ImportPath, "y")}
	key2 := NewKey(ID{2}, nil)
	if err := c.Put(pkg, log, e2, key2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(key2, pkg, true); !errors.Is(err, ErrMiss) {
		t.Errorf("no profile: %v, want ErrMiss", err)
	}
	if _, err := c.Get(key2, pkg, false); err != nil {
		t.Errorf("no profile, none needed: %v", err)
	}

	if err := c.Put(pkg, log, &Entry{Events: bytes.Replace(e.Events, []byte(`"pass"`), []byte(`"fail"`), 1)}, key); !errors.Is(err, ErrNotPassed) {
		t.Errorf("failing run: %v, want ErrNotPassed", err)
	}
	if err := c.Put(Package{Dir: pkg.Dir}, log, e, key); !errors.Is(err, ErrNoRoot) {
		t.Errorf("no root: %v, want ErrNoRoot", err)
	}

	if err := c.Clean(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(key, pkg, false); !errors.Is(err, ErrMiss) {
		t.Errorf("after Clean: %v, want ErrMiss", err)
	}
	if err := c.Put(pkg, log, e, key); err != nil {
		t.Errorf("Put after Clean: %v", err)
	}
}

func TestCorruptEntryIsMiss(t *testing.T) {
	pkg, log := storeFixture(t)
	c, _ := Open(t.TempDir(), Options{})
	key := NewKey(ID{3}, nil)
	if err := c.Put(pkg, log, &Entry{Events: passEvents(pkg.ImportPath, "x")}, key); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(c.Dir(), "v1", "results", "*", "*"))
	if len(files) != 1 {
		t.Fatalf("results: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	for _, cut := range []int{0, 10, len(data) / 2, len(data) - 1} {
		os.WriteFile(files[0], data[:cut], 0o644)
		if _, err := c.Get(key, pkg, false); !errors.Is(err, ErrMiss) {
			t.Errorf("truncated to %d: %v, want ErrMiss", cut, err)
		}
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-5] ^= 1
	os.WriteFile(files[0], flipped, 0o644)
	if _, err := c.Get(key, pkg, false); !errors.Is(err, ErrMiss) {
		t.Errorf("flipped bit: %v, want ErrMiss", err)
	}
}

func TestTrim(t *testing.T) {
	pkg, log := storeFixture(t)
	c, _ := Open(t.TempDir(), Options{MaxBytes: 6000})
	big := bytes.Repeat([]byte("x"), 1000)
	var keys []Key
	for i := range 10 {
		k := NewKey(ID{1, byte(i)}, nil)
		keys = append(keys, k)
		if err := c.Put(pkg, log, &Entry{Events: passEvents(pkg.ImportPath, strconv.Itoa(i)), CoverProfile: big}, k); err != nil {
			t.Fatal(err)
		}
	}
	// Date the files by key order; then use key 0, making it the newest.
	for i, k := range keys {
		mt := old.Add(time.Duration(i) * time.Minute)
		rec, _ := os.ReadFile(c.inputsPath(k))
		ops, _ := parseRecord(rec, pkg.Root)
		in, _ := hashInputs(ops, pkg, false)
		os.Chtimes(c.inputsPath(k), mt, mt)
		os.Chtimes(c.resultPath(k, in), mt, mt)
	}
	if _, err := c.Get(keys[0], pkg, false); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(c.Dir(), "v1", "results", tempPrefix+"dead")
	os.WriteFile(tmp, []byte("half"), 0o644)
	os.Chtimes(tmp, old, old)

	st, err := c.Trim()
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes <= 6000 || st.Bytes-st.Removed > 6000*3/4+1200 || st.Removed == 0 {
		t.Errorf("Trim: %+v", st)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dead temp file kept: %v", err)
	}
	if _, err := c.Get(keys[0], pkg, false); err != nil {
		t.Errorf("recently used entry trimmed: %v", err)
	}
	if _, err := c.Get(keys[1], pkg, false); !errors.Is(err, ErrMiss) {
		t.Errorf("least recently used entry kept: %v", err)
	}
	if _, err := c.Get(keys[9], pkg, false); err != nil {
		t.Errorf("newest entry trimmed: %v", err)
	}
}

// helperEnv makes the test binary a cache writer (helperProcess).
const helperEnv = "TESTCACHE_HELPER_DIR"

// hammer puts and gets one shared set of keys many times, checking every
// hit is a whole entry some writer wrote for that key.
func hammer(c *Cache, pkg Package, log *Log, writer string, rounds int) error {
	for i := range rounds {
		k := NewKey(ID{1, byte(i % 4)}, nil)
		marker := fmt.Sprintf("key%d", i%4)
		e := &Entry{Events: passEvents(pkg.ImportPath, marker), CoverProfile: []byte(writer)}
		if err := c.Put(pkg, log, e, k); err != nil {
			return err
		}
		got, err := c.Get(k, pkg, false)
		if err != nil {
			return fmt.Errorf("get after put: %w", err)
		}
		if !bytes.Equal(got.Events, passEvents(pkg.ImportPath, marker)) {
			return fmt.Errorf("key %d: wrong events %q", i%4, got.Events)
		}
	}
	return nil
}

func helperProcess(dir string) int {
	var pkg Package
	pkg.ImportPath, pkg.Dir, pkg.Root = "example.com/p", os.Getenv("TESTCACHE_HELPER_PKG"), os.Getenv("TESTCACHE_HELPER_ROOT")
	pkg.Env = []string{"HOME=/h"}
	log, _ := ParseLog([]byte(testlogMagic+"open in.txt\ngetenv HOME\n"), pkg.Dir)
	c, err := Open(dir, Options{})
	if err == nil {
		err = hammer(c, pkg, log, "proc"+strconv.Itoa(os.Getpid()), 200)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestConcurrentWriters(t *testing.T) {
	pkg, log := storeFixture(t)
	dir := t.TempDir()
	c, _ := Open(dir, Options{})

	var procs []*exec.Cmd
	var outs []*bytes.Buffer
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir, "TESTCACHE_HELPER_PKG="+pkg.Dir, "TESTCACHE_HELPER_ROOT="+pkg.Root)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, outs = append(procs, cmd), append(outs, &out)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() { errs <- hammer(c, pkg, log, "goroutine"+strconv.Itoa(g), 200) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v\n%s", i, err, outs[i])
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "v1", "*", "*", tempPrefix+"*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestConcurrentClean(t *testing.T) {
	pkg, log := storeFixture(t)
	c, _ := Open(t.TempDir(), Options{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				c.Clean()
			}
		}
	})
	for i := range 300 {
		k := NewKey(ID{1, byte(i)}, nil)
		if err := c.Put(pkg, log, &Entry{Events: passEvents(pkg.ImportPath, "x")}, k); err != nil {
			t.Errorf("Put during Clean: %v", err)
		}
		if e, err := c.Get(k, pkg, false); err == nil && !bytes.Equal(e.Events, passEvents(pkg.ImportPath, "x")) {
			t.Errorf("Get during Clean: wrong entry")
		}
	}
	close(stop)
	wg.Wait()
}
