package gotool

import (
	"context"
	"slices"
	"testing"
)

func TestLoadOrderAndErrors(t *testing.T) {
	pkgs, err := Load(context.Background(), LoadConfig{
		Dir:      fixtureDir(t),
		Patterns: []string{"./...", "example.com/mod/nosuchpkg"},
		Env:      fixtureEnv(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range pkgs {
		paths = append(paths, p.ImportPath)
	}
	want := []string{
		"example.com/mod/a", "example.com/mod/b/util", "example.com/mod/badsig", "example.com/mod/broken",
		"example.com/mod/c/util", "example.com/mod/crash", "example.com/mod/notests", "example.com/mod/slow",
		"example.com/mod/tiny", "example.com/mod/vetfail", "example.com/mod/withmain",
		"example.com/mod/nosuchpkg",
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("packages:\n got %q\nwant %q", paths, want)
	}
	last := pkgs[len(pkgs)-1]
	if last.Error == nil {
		t.Fatalf("%s: no load error", last.ImportPath)
	}
	for _, p := range pkgs[:len(pkgs)-1] {
		if p.Error != nil {
			t.Errorf("%s: unexpected error %v", p.ImportPath, p.Error)
		}
	}
	if pkgs[6].HasTests() || !pkgs[0].HasTests() {
		t.Errorf("HasTests wrong: notests=%v a=%v", pkgs[6].HasTests(), pkgs[0].HasTests())
	}
}

func TestLoadDefaultPatternAndTags(t *testing.T) {
	pkgs, err := Load(context.Background(), LoadConfig{Dir: fixtureDir(t) + "/a", BuildFlags: []string{"-tags=special"}, Env: fixtureEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].ImportPath != "example.com/mod/a" {
		t.Fatalf("got %+v", pkgs)
	}
	if !slices.Contains(pkgs[0].TestGoFiles, "tagged_test.go") {
		t.Errorf("TestGoFiles %q lacks the tagged file", pkgs[0].TestGoFiles)
	}
}

func TestListFlags(t *testing.T) {
	got := listFlags([]string{"-tags=x", "-vet=off", "-race", "--vet", "atomic", "-mod", "mod"})
	if want := []string{"-tags=x", "-race", "-mod", "mod"}; !slices.Equal(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}
