package testcache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestParseLog(t *testing.T) {
	log, err := ParseLog([]byte(testlogMagic+
		"getenv HOME\nopen a.txt\nstat /abs/b\nchdir /elsewhere\nopen c.txt\nopen a.txt\n"), "/pkg")
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{"chdir", "/elsewhere"}, {"getenv", "HOME"},
		{"open", "/elsewhere/a.txt"}, {"open", "/elsewhere/c.txt"}, {"open", "/pkg/a.txt"}, {"stat", "/abs/b"},
	}
	if got := log.Ops(); !slices.Equal(got, want) {
		t.Errorf("Ops = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "open a\n", testlogMagic + "open a", testlogMagic + "frob a\n", testlogMagic + "open\n"} {
		if _, err := ParseLog([]byte(bad), "/pkg"); !errors.Is(err, ErrBadTestlog) {
			t.Errorf("ParseLog(%q) = %v, want ErrBadTestlog", bad, err)
		}
	}

	other, _ := ParseLog([]byte(testlogMagic+"open /bundle/x/d.txt\ngetenv HOME\n"), "/bundle/x")
	other.Rebase("/bundle/x", "/pkg")
	log.Merge(other)
	if !slices.Contains(log.Ops(), Op{"open", "/pkg/d.txt"}) || len(log.Ops()) != 7 {
		t.Errorf("merged and rebased: %v", log.Ops())
	}
}

// TestSplitRunLikeGoTest: a package run as two processes, their testlogs
// merged, decides as go test's one process does.
func TestSplitRunLikeGoTest(t *testing.T) {
	skipShort(t)
	fx := newFixture(t, map[string]string{
		"s/s_test.go": `package s

import (
	"os"
	"testing"
)

func TestA(t *testing.T) { os.ReadFile("testdata/a.txt") }
func TestB(t *testing.T) { os.ReadFile("testdata/b.txt"); os.Getenv("FX_B") }
`,
		"s/testdata/a.txt": "a", "s/testdata/b.txt": "b",
	})
	ctx := context.Background()
	run := func() (string, error) {
		flags := CheckFlags([]string{"./s"}, "")
		bindir := t.TempDir()
		fx.run(fx.dir, "go", "test", "-c", "-o", bindir+"/", "./s")
		bin := filepath.Join(bindir, "s.test")
		cid, err := ContentID(bin)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := LinkKeys(ctx, KeyQuery{Dir: fx.dir, Env: fx.env, Packages: []string{"./s"}})
		if err != nil {
			t.Fatal(err)
		}
		pk := keys[fixtureModule+"/s"]
		p := Package{ImportPath: pk.ImportPath, Dir: pk.Dir, Root: pk.Root, Env: fx.env}
		k1, k2 := NewKey(pk.Binary, flags.KeyArgs), NewKey(cid, flags.KeyArgs)
		if _, err := fx.cache.Get(k1, p, false); err == nil {
			return hit, nil
		}
		merged := &Log{}
		var events []byte
		for i, test := range []string{"TestA", "TestB"} {
			tl := filepath.Join(bindir, test+".log")
			cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.testlogfile="+tl, "-test.paniconexit0")
			cmd.Dir, cmd.Env = pk.Dir, fx.env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", test, err, out)
			}
			l, err := ReadLog(tl, pk.Dir)
			if err != nil {
				t.Fatal(err)
			}
			merged.Merge(l)
			if i == 1 {
				events = passEvents(pk.ImportPath, "split")
			}
		}
		return miss, fx.cache.Put(p, merged, &Entry{Events: events}, k1, k2)
	}
	check := func(step string, wantHit bool) {
		t.Helper()
		goCached, _ := fx.goTest("./s")
		got, err := run()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if goCached != (got == hit) || goCached != wantHit {
			t.Errorf("%s: go test cached=%v, split run %s, want hit=%v", step, goCached, got, wantHit)
		}
	}
	check("first", false)
	check("nothing changed", true)
	fx.write("s/testdata/b.txt", "bb")
	check("file only the second process read", false)
	fx.setenv("FX_B=1")
	check("env only the second process read", false)
	fx.write("s/testdata/a.txt", "aa")
	check("file only the first process read", false)
	check("nothing changed again", true)
}

// TestPortable: portable inputs ignore mtimes and the checkout's path,
// and see contents go's stat hash does not.
func TestPortable(t *testing.T) {
	mk := func(content string, mt time.Time) Package {
		root := t.TempDir()
		dir := filepath.Join(root, "p")
		os.MkdirAll(filepath.Join(dir, "testdata"), 0o777)
		f := filepath.Join(dir, "testdata", "x.txt")
		os.WriteFile(f, []byte(content), 0o644)
		os.Chtimes(f, mt, mt)
		os.Chtimes(filepath.Join(dir, "testdata"), mt, mt)
		return Package{ImportPath: "example.com/p", Dir: dir, Root: root, Env: []string{"V=1"}}
	}
	logFor := func(p Package) *Log {
		l, err := ParseLog([]byte(testlogMagic+"open testdata/x.txt\nopen testdata\nstat testdata/x.txt\ngetenv V\n"), p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	shared := t.TempDir()
	machineA, _ := Open(shared, Options{Portable: true})
	machineB, _ := Open(shared, Options{Portable: true})
	local, _ := Open(t.TempDir(), Options{})
	a := mk("same", old)
	key := NewKey(ID{9}, nil)
	e := &Entry{Events: passEvents(a.ImportPath, "x")}
	if err := machineA.Put(a, logFor(a), e, key); err != nil {
		t.Fatal(err)
	}
	if err := local.Put(a, logFor(a), e, key); err != nil {
		t.Fatal(err)
	}

	b := mk("same", old.Add(-time.Hour)) // another checkout: other path, other mtimes
	if _, err := machineB.Get(key, b, false); err != nil {
		t.Errorf("portable, same contents elsewhere: %v", err)
	}
	if _, err := local.Get(key, b, false); !errors.Is(err, ErrMiss) {
		t.Errorf("go rules, same contents elsewhere: %v, want a miss", err)
	}
	c := mk("diff", old) // same size, same mtime, other content
	if _, err := machineB.Get(key, c, false); !errors.Is(err, ErrMiss) {
		t.Errorf("portable, other content: %v, want a miss", err)
	}
	b.Env = []string{"V=2"}
	if _, err := machineB.Get(key, b, false); !errors.Is(err, ErrMiss) {
		t.Errorf("portable, env changed: %v, want a miss", err)
	}
}

var timeRE = regexp.MustCompile(`"Time":"[^"]*"|"Elapsed":[0-9.]+|\t[0-9.]+s`)

// TestReplayLikeGoTest: the replay of a stored go test -json stream is go
// test's own cached -json output, timings aside, with and without -cover.
func TestReplayLikeGoTest(t *testing.T) {
	skipShort(t)
	fx := newFixture(t, map[string]string{
		"r/r.go":      "package r\n\nfunc F(x int) int {\n\tif x > 0 {\n\t\treturn 1\n\t}\n\treturn 0\n}\n",
		"r/r_test.go": "package r\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) {\n\tt.Log(\"<&>\")\n\tt.Run(\"sub\", func(t *testing.T) { F(1) })\n}\n",
	})
	for _, args := range [][]string{{"-json"}, {"-json", "-cover"}, {"-json", "-v", "-run=F"}} {
		goJSON := func() []byte {
			cmd := exec.Command("go", append(append([]string{"test"}, args...), "./r")...)
			cmd.Dir, cmd.Env = fx.dir, fx.env
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			return out
		}
		stored := goJSON() // what godist's collector would hand to Put
		cached := goJSON()
		if !bytes.Contains(cached, []byte(`(cached)`)) {
			t.Fatalf("%v: go test did not cache:\n%s", args, cached)
		}
		replay, err := Replay(stored, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if g, w := timeRE.ReplaceAll(replay, nil), timeRE.ReplaceAll(cached, nil); !bytes.Equal(g, w) {
			t.Errorf("%v: replay\n%s\nwant (go test's cached run)\n%s", args, replay, cached)
		}
		if !bytes.Contains(replay, []byte(`"Action":"pass","Package":"example.com/fx/r","Elapsed":0}`)) {
			t.Errorf("%v: package pass not at Elapsed 0:\n%s", args, replay)
		}
		wantCov := ""
		if slices.Contains(args, "-cover") {
			wantCov = "coverage: 66.7% of statements"
		}
		if got := CoverageOf(stored); got != wantCov {
			t.Errorf("%v: CoverageOf = %q, want %q", args, got, wantCov)
		}
	}
}
