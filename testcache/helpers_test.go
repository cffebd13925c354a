package testcache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helperProcess(dir))
	}
	goleak.VerifyTestMain(m)
}

// old is the mtime fixture files get: well past ModTimeCutoff, so that
// both go test and the cache may cache runs that read them.
var old = time.Now().Add(-time.Hour).Truncate(time.Second)

// fixture is a module in a temporary directory, tested by real go test
// and by sim, a controller doing what godist's will do with this package.
type fixture struct {
	t     *testing.T
	dir   string // module root
	env   []string
	cache *Cache
	level int // the lookups of sim's last run: 1 link key, 2 content key too
}

const fixtureModule = "example.com/fx"

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	fx := &fixture{t: t, dir: dir, env: os.Environ()}
	fx.write("go.mod", "module "+fixtureModule+"\n\ngo 1.26\n")
	for name, content := range files {
		fx.write(name, content)
	}
	c, err := Open(filepath.Join(t.TempDir(), "cache"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	fx.cache = c
	return fx
}

// write writes a file and dates it old.
func (fx *fixture) write(name, content string) {
	fx.t.Helper()
	p := filepath.Join(fx.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		fx.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
		fx.t.Fatal(err)
	}
	fx.chtime(name, old)
}

func (fx *fixture) chtime(name string, mt time.Time) {
	fx.t.Helper()
	if err := os.Chtimes(filepath.Join(fx.dir, name), mt, mt); err != nil {
		fx.t.Fatal(err)
	}
}

func (fx *fixture) setenv(kv string) { fx.env = append(fx.env, kv) }

// goTest runs real go test in package list mode and reports whether it
// took the package's result from its cache, and its stderr.
func (fx *fixture) goTest(pkg string, args ...string) (cached bool, stderr string) {
	fx.t.Helper()
	cmd := exec.Command("go", append(append([]string{"test"}, args...), pkg)...)
	cmd.Dir = fx.dir
	godebug := "gocachetest=1"
	if v, ok := envLookup(fx.env)("GODEBUG"); ok {
		godebug = v + "," + godebug
	}
	cmd.Env = append(fx.env[:len(fx.env):len(fx.env)], "GODEBUG="+godebug)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run() // a failing package is a result too
	// In text `\t(cached)`, in -json the same escaped.
	hit := bytes.Contains(out.Bytes(), []byte("\t(cached)")) || bytes.Contains(out.Bytes(), []byte(`\t(cached)`))
	return hit, errb.String()
}

// lookups counts the test IDs go test looked up (GODEBUG=gocachetest=1):
// 1 for a hit with the link-level ID, 2 when it linked and tried the
// binary's content ID.
func lookups(stderr string) int {
	n := 0
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, ": test ID ") && !strings.Contains(line, "input ID") {
			n++
		}
	}
	return n
}

// Decisions of sim.
const (
	hit         = "hit"
	miss        = "miss"        // ran; stored
	uncacheable = "uncacheable" // flags disable caching
	notStored   = "not stored"  // ran; the result could not be stored
)

// sim does for one package what the controller does: flags, the link
// key, Get; on a miss the binary, its content key, Get again; on a miss
// a run with a testlog and Put. It returns the decision and the reason
// it was not stored (nil if stored).
func (fx *fixture) sim(pkg string, args ...string) (string, error) {
	fx.t.Helper()
	ctx := context.Background()
	flags := CheckFlags(append(args, pkg), os.Getenv("GOFLAGS"))
	if !flags.Cacheable {
		return uncacheable, errors.New(flags.Reason)
	}
	keys, err := LinkKeys(ctx, KeyQuery{Dir: fx.dir, Env: fx.env, Packages: []string{pkg}})
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(keys) != 1 {
		fx.t.Fatalf("LinkKeys: %d packages, want 1: %v", len(keys), keys)
	}
	var pk PackageKey
	for _, pk = range keys {
	}
	if pk.Binary == (ID{}) {
		fx.t.Fatalf("LinkKeys: no key for %s: %s", pk.ImportPath, pk.Err)
	}
	p := Package{ImportPath: pk.ImportPath, Dir: pk.Dir, Root: pk.Root, Env: fx.env}
	needProfile := false
	for _, a := range flags.TestArgs {
		needProfile = needProfile || strings.HasPrefix(a, "-test.coverprofile=")
	}
	k1 := NewKey(pk.Binary, flags.KeyArgs)
	fx.level = 1
	if _, err := fx.cache.Get(k1, p, needProfile); err == nil {
		return hit, nil
	}
	fx.level = 2
	bindir := fx.t.TempDir()
	fx.run(fx.dir, "go", "test", "-c", "-o", bindir+"/", pkg)
	bins, _ := filepath.Glob(filepath.Join(bindir, "*.test"))
	if len(bins) != 1 {
		fx.t.Fatalf("go test -c: %v", bins)
	}
	cid, err := ContentID(bins[0])
	if err != nil {
		fx.t.Fatal(err)
	}
	k2 := NewKey(cid, flags.KeyArgs)
	if _, err := fx.cache.Get(k2, p, needProfile); err == nil {
		return hit, nil
	}
	testlog := filepath.Join(bindir, "testlog.txt")
	targs := append([]string{"tool", "test2json", "-t", "-p", pk.ImportPath, bins[0],
		"-test.testlogfile=" + testlog, "-test.paniconexit0"}, flags.TestArgs...)
	targs = append(targs, "-test.v=test2json")
	cmd := exec.Command("go", targs...)
	cmd.Dir, cmd.Env = pk.Dir, fx.env
	events, err := cmd.Output()
	if err != nil {
		return miss, errors.New("run failed")
	}
	log, err := ReadLog(testlog, pk.Dir)
	if err != nil {
		return notStored, err // e.g. -list: the binary writes no testlog
	}
	if err := fx.cache.Put(p, log, &Entry{Events: events}, k1, k2); err != nil {
		return notStored, err
	}
	return miss, nil
}

func (fx *fixture) run(dir string, name string, args ...string) []byte {
	fx.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, fx.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		fx.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

// both asks go test and sim for their decision on the same state and
// fails unless they agree with each other and with want (hit or not).
func (fx *fixture) both(step, pkg string, wantHit bool, args ...string) {
	fx.t.Helper()
	goCached, goErr := fx.goTest(pkg, args...)
	got, why := fx.sim(pkg, args...)
	if goCached != (got == hit) {
		fx.t.Errorf("%s: go test cached=%v, sim %s (%v)\ngo test stderr:\n%s", step, goCached, got, why, goErr)
	} else if goCached != wantHit {
		fx.t.Errorf("%s: both cached=%v, want %v (sim %s: %v)", step, goCached, wantHit, got, why)
	} else if goCached && lookups(goErr) != fx.level {
		fx.t.Errorf("%s: go test hit after %d lookups, sim after %d", step, lookups(goErr), fx.level)
	}
}
