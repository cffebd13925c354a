package scheduler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/godist/godist/gotool"
)

func TestSplitPattern(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]string
	}{
		{"TestA", [][]string{{"TestA"}}},
		{"TestA/sub", [][]string{{"TestA", "sub"}}},
		{"A|B/c", [][]string{{"A"}, {"B", "c"}}},
		{"(A|B)/c", [][]string{{"(A|B)", "c"}}},
		{"[/|]x/y", [][]string{{"[/|]x", "y"}}},
		{`a\/b/c`, [][]string{{`a\/b`, "c"}}},
		{"]a/b", [][]string{{"]a", "b"}}},
		{"a//b", [][]string{{"a", "", "b"}}},
	} {
		got := splitPattern(tc.in)
		if !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("splitPattern(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRunPattern(t *testing.T) {
	if got, want := RunPattern([]string{"TestA", "Test_x", "TestÄ"}), `^(TestA|Test_x|TestÄ)$`; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	for _, tc := range []struct{ run, want string }{
		{"", `^(TestA|TestB)$`},
		{"Test", `^(TestA|TestB)$`},
		{"Test/sub", `^(TestA|TestB)$/sub`},
		{"TestA/x|TestB/y", `^(TestA)$/x|^(TestB)$/y`},
		{"TestA/x|Test/y", `^(TestA)$/x|^(TestA|TestB)$/y`},
		{"TestA/x/y|TestB/x/y", `^(TestA|TestB)$/x/y`},
	} {
		f, err := NewFilter(tc.run, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.RunArg([]string{"TestA", "TestB"}); got != tc.want {
			t.Errorf("-run %q: RunArg = %q, want %q", tc.run, got, tc.want)
		}
	}
	if got := (*Filter)(nil).RunArg(nil); got != "^$" {
		t.Errorf("RunArg(nil) = %q", got)
	}
}

func TestNewFilterInvalid(t *testing.T) {
	_, err := NewFilter("TestA/(", "")
	var pe *PatternError
	if !errors.As(err, &pe) || pe.Flag != "-test.run" {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewFilter("", "a["); !errors.As(err, &pe) || pe.Flag != "-test.skip" {
		t.Fatalf("err = %v", err)
	}
}

var (
	aBinOnce sync.Once
	aBin     gotool.BuildResult
)

// fixtureBinary builds example.com/mod/a's test binary once (vet off: the
// package keeps names like Testing that vet rejects on purpose).
func fixtureBinary(t *testing.T) string {
	t.Helper()
	aBinOnce.Do(func() {
		aBin = gotool.Build(context.Background(), gotool.BuildRequest{
			Pkg: fixturePkgs(t)["example.com/mod/a"], Dir: fixtureDir(t), OutDir: testTempDir,
			BuildFlags: []string{"-vet=off"}, Env: fixtureEnv(),
		})
	})
	if aBin.Err != nil {
		t.Fatalf("build: %v\n%s", aBin.Err, aBin.Output)
	}
	return aBin.Binary
}

// runBinary runs bin with -test.run/-test.skip and returns the names of
// all tests it started ("=== RUN" lines), in order.
func runBinary(t *testing.T, bin, dir, run, skip string) []string {
	t.Helper()
	args := []string{"-test.v=test2json", "-test.paniconexit0", "-test.run=" + run}
	if skip != "" {
		args = append(args, "-test.skip="+skip)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, out)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "\x16")
		if name, ok := strings.CutPrefix(line, "=== RUN   "); ok {
			names = append(names, name)
		}
	}
	return names
}

// TestSelectionMatchesBinary checks, for many -run/-skip pairs, that (1)
// the top-level selection equals what the real binary runs, and (2) running
// the selection in batches with RunArg/SkipArg runs exactly the same tests
// and subtests as one go test process with the user's flags.
func TestSelectionMatchesBinary(t *testing.T) {
	bin := fixtureBinary(t)
	pkg := fixturePkgs(t)["example.com/mod/a"]
	pt, err := Discover(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ run, skip string }{
		{"", ""},
		{"TestA", ""},
		{"^TestA$", ""},
		{"TestA$", ""},
		{"TestA/sub", ""},
		{"TestA/sub|TestAB", ""},
		{"TestAB|TestA/sub", ""},
		{"TestA/sub|TestA/other", ""},
		{"(TestA|TestB1)/sub", ""},
		{"^Test$", ""},
		{"Example", ""},
		{"Fuzz", ""},
		{"Fuzz/seed#0", ""},
		{"X", ""},
		{"^Test_", ""},
		{"Ä", ""},
		{"[/]", ""},
		{"TestA/", ""},
		{"TestA /sub", ""},
		{"NoSuchTest", ""},
		{"", "TestA"},
		{"", "TestA/sub"},
		{"", "TestA/sub|TestA"},
		{"", "TestA|TestA/sub"},
		{"", "Example"},
		{"", "Fuzz/seed"},
		{"TestA", "TestAB|TestA/other"},
		{"Test", "^Test$"},
	} {
		t.Run(tc.run+" skip "+tc.skip, func(t *testing.T) {
			f, err := NewFilter(tc.run, tc.skip)
			if err != nil {
				t.Fatal(err)
			}
			want := runBinary(t, bin, pkg.Dir, tc.run, tc.skip)
			var wantTop []string
			for _, n := range want {
				if !strings.Contains(n, "/") {
					wantTop = append(wantTop, n)
				}
			}
			sel := pt.Select(f)
			var gotTop []string
			for _, fn := range sel.Funcs {
				gotTop = append(gotTop, fn.Name)
			}
			if !slices.Equal(gotTop, wantTop) {
				t.Fatalf("top-level selection:\n got %q\nwant %q", gotTop, wantTop)
			}
			// Batches of two names, run separately, must run the same tests.
			names := sel.Names()
			var got []string
			for i := 0; i < len(names); i += 2 {
				batch := names[i:min(i+2, len(names))]
				got = append(got, runBinary(t, bin, pkg.Dir, f.RunArg(batch), f.SkipArg())...)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("batched runs:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestAnchoredBatches runs each single name: exactly that test runs (the
// name defined in both packages runs twice, as under go test).
func TestAnchoredBatches(t *testing.T) {
	bin := fixtureBinary(t)
	pkg := fixturePkgs(t)["example.com/mod/a"]
	for _, name := range []string{"TestA", "TestAB", "TestA_B", "Test", "TestÄ", "FuzzIn", "ExampleFoo"} {
		got := runBinary(t, bin, pkg.Dir, RunPattern([]string{name}), "")
		var top []string
		for _, n := range got {
			if !strings.Contains(n, "/") {
				top = append(top, n)
			}
		}
		want := []string{name}
		if name == "Test" {
			want = []string{"Test", "Test"}
		}
		if !slices.Equal(top, want) {
			t.Errorf("%s: ran %q", name, top)
		}
	}
}
