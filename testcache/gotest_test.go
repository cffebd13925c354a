package testcache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests in this file put the cache and real go test side by side on
// fixture modules: every step asks both for their decision on the same
// state (go test: does its second run say "(cached)"?) and wants them to
// agree, and to match what the rule says.

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs real go test: slow")
	}
	t.Parallel()
}

const inputsTest = `package inputs

import (
	"os"
	"testing"
)

func TestInputs(t *testing.T) {
	if _, err := os.ReadFile("testdata/data.txt"); err != nil {
		t.Fatal(err)
	}
	t.Log(os.Getenv("FX_READ"))
	if _, err := os.ReadDir("testdata/dir"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("testdata/stat.txt"); err != nil {
		t.Fatal(err)
	}
	os.ReadFile(os.Getenv("FX_OUTSIDE"))
}

func TestChdir(t *testing.T) {
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir("testdata/sub"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile("rel.txt"); err != nil {
		t.Fatal(err)
	}
}
`

// TestInputsLikeGoTest walks one package through edits of the inputs its
// tests consult, each step compared with go test.
func TestInputsLikeGoTest(t *testing.T) {
	skipShort(t)
	outside := filepath.Join(t.TempDir(), "outside.txt")
	os.WriteFile(outside, []byte("x"), 0o666)
	os.Chtimes(outside, old, old)
	fx := newFixture(t, map[string]string{
		"inputs/inputs_test.go":       inputsTest,
		"inputs/testdata/data.txt":    "data v1\n",
		"inputs/testdata/stat.txt":    "stat\n",
		"inputs/testdata/dir/a":       "a",
		"inputs/testdata/sub/rel.txt": "rel v1\n",
	})
	fx.setenv("FX_READ=one")
	fx.setenv("FX_OUTSIDE=" + outside)
	const pkg = "./inputs"

	fx.both("first run", pkg, false)
	fx.both("nothing changed", pkg, true)

	fx.write("inputs/testdata/data.txt", "data version 2\n")
	fx.both("testdata content changed", pkg, false)
	fx.both("again unchanged", pkg, true)

	fx.chtime("inputs/testdata/data.txt", old.Add(time.Minute))
	fx.both("testdata mtime only", pkg, false)

	// go test does not hash contents: same size, same mtime, is a hit.
	fx.write("inputs/testdata/data.txt", "data version 3\n")
	fx.chtime("inputs/testdata/data.txt", old.Add(time.Minute))
	fx.both("content changed, size and mtime kept", pkg, true)

	fx.setenv("FX_READ=two")
	fx.both("read env var changed", pkg, false)
	fx.setenv("FX_UNREAD=x")
	fx.both("unread env var set", pkg, true)
	fx.setenv("GODEBUG=madvdontneed=1")
	fx.both("GODEBUG changed", pkg, false)

	fx.write("inputs/testdata/dir/b", "b")
	fx.both("file added to a directory read", pkg, false)

	if err := os.Chmod(filepath.Join(fx.dir, "inputs/testdata/stat.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.both("stat'ed file's mode changed", pkg, false)

	fx.write("inputs/testdata/sub/rel.txt", "rel version 2\n")
	fx.both("file opened after chdir changed", pkg, false)

	os.WriteFile(outside, []byte("changed"), 0o666)
	fx.both("file outside the module changed", pkg, true)
}

const sourceTest = `package src

import "testing"

func TestSrc(t *testing.T) {
	if Answer() != 42 {
		t.Fatal("wrong")
	}
}
`

// TestSourceChangesLikeGoTest: source edits that do and do not change the
// test binary.
func TestSourceChangesLikeGoTest(t *testing.T) {
	skipShort(t)
	src := "package src\n\nfunc Answer() int { return 42 }\n"
	fx := newFixture(t, map[string]string{"src/src.go": src, "src/src_test.go": sourceTest})
	const pkg = "./src"
	fx.both("first run", pkg, false)
	fx.both("nothing changed", pkg, true)

	fx.write("src/src.go", "package src\n\nfunc Answer() int { return 42 } // the answer\n")
	fx.both("comment at the end of a line", pkg, true)

	// The package's archive changes (positions), so the link-level key
	// misses; but Answer is inlined and its symbol dropped, the binary is
	// the same, and the content key hits: go test links, then hits.
	fx.write("src/src.go", "package src\n\n// Answer answers.\n// It shifts the code a line down.\nfunc Answer() int { return 42 }\n")
	fx.both("comment lines moving inlined code", pkg, true)
	if fx.level != 2 {
		t.Errorf("comment lines moving inlined code: hit at level %d, want 2", fx.level)
	}

	fx.write("src/src.go", "package src\n\n// Answer answers.\n// It shifts the code a line down.\nfunc Answer() int { x := 41; x++; return x }\n")
	fx.both("code change compiled to the same binary", pkg, true)

	fx.write("src/src_test.go", strings.Replace(sourceTest, "{\n\tif", "{\n\tt.Log(\"v2\")\n\tif", 1))
	fx.both("code change", pkg, false)
	fx.both("code change, then nothing", pkg, true)
}

// TestNotCachedLikeGoTest: runs that go test never takes from its cache.
func TestNotCachedLikeGoTest(t *testing.T) {
	skipShort(t)
	fx := newFixture(t, map[string]string{
		"p/p_test.go":       "package p\n\nimport \"testing\"\n\nfunc TestP(t *testing.T) {}\n",
		"fail/fail_test.go": "package fail\n\nimport \"testing\"\n\nfunc TestFail(t *testing.T) { t.Fatal(\"no\") }\n",
		"young/young_test.go": `package young

import (
	"os"
	"path/filepath"
	"testing"
)

func TestYoung(t *testing.T) {
	// Rewritten by each run: always younger than two seconds when read.
	p := filepath.Join("testdata", "young.txt")
	os.WriteFile(p, []byte("x"), 0o666)
	if _, err := os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
}
`,
		"young/testdata/young.txt": "x",
	})
	for _, args := range [][]string{{"-count=1"}, {"-count=2"}, {"-shuffle=on"}, {"-benchmem"}, {"-args", "-custom"}} {
		fx.both("first "+strings.Join(args, " "), "./p", false, args...)
		fx.both("second "+strings.Join(args, " "), "./p", false, args...)
		if d, _ := fx.sim("./p", args...); d != uncacheable {
			t.Errorf("%v: sim %s, want %s", args, d, uncacheable)
		}
	}

	// -list is a cacheable flag, but the binary writes no testlog.
	fx.both("-list", "./p", false, "-list=.")
	if d, err := fx.sim("./p", "-list=."); d != notStored {
		t.Errorf("-list: sim %s (%v), want %s", d, err, notStored)
	}

	fx.both("failing package", "./fail", false)
	fx.both("failing package again", "./fail", false)

	fx.both("file younger than 2s", "./young", false)
	if d, err := fx.sim("./young"); d != notStored || !errors.Is(err, ErrFileTooNew) {
		t.Errorf("young: sim %s (%v), want %s with ErrFileTooNew", d, err, notStored)
	}
	fx.both("file younger than 2s again", "./young", false)
}
