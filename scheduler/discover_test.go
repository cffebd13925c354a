package scheduler

import (
	"errors"
	"slices"
	"testing"

	"github.com/godist/godist/gotool"
)

type fn struct {
	name  string
	kind  Kind
	xtest bool
}

func TestDiscover(t *testing.T) {
	pkgs := fixturePkgs(t)
	tagged := *pkgs["example.com/mod/a"]
	tagged.TestGoFiles = append(slices.Clone(tagged.TestGoFiles), "tagged_test.go")
	for _, tc := range []struct {
		name     string
		pkg      *gotool.Package
		want     []fn
		testMain bool
	}{
		{
			name: "a",
			pkg:  pkgs["example.com/mod/a"],
			want: []fn{
				{"TestA", KindTest, false}, {"TestAB", KindTest, false}, {"TestA_B", KindTest, false},
				{"Test", KindTest, false}, {"Test_x", KindTest, false}, {"TestÄ", KindTest, false},
				{"TestB1", KindTest, false},
				{"Test", KindTest, true}, {"TestX", KindTest, true},
				{"FuzzIn", KindFuzz, false}, {"FuzzX", KindFuzz, true},
				{"ExampleFoo", KindExample, true}, {"Example_unordered", KindExample, true}, {"ExampleFoo_empty", KindExample, true},
			},
		},
		{
			name: "a with tags",
			pkg:  &tagged,
			want: []fn{
				{"TestA", KindTest, false}, {"TestAB", KindTest, false}, {"TestA_B", KindTest, false},
				{"Test", KindTest, false}, {"Test_x", KindTest, false}, {"TestÄ", KindTest, false},
				{"TestB1", KindTest, false}, {"TestTagged", KindTest, false},
				{"Test", KindTest, true}, {"TestX", KindTest, true},
				{"FuzzIn", KindFuzz, false}, {"FuzzX", KindFuzz, true},
				{"ExampleFoo", KindExample, true}, {"Example_unordered", KindExample, true}, {"ExampleFoo_empty", KindExample, true},
			},
		},
		{name: "withmain", pkg: pkgs["example.com/mod/withmain"], want: []fn{{"TestOne", KindTest, false}}, testMain: true},
		{name: "notests", pkg: pkgs["example.com/mod/notests"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := Discover(tc.pkg)
			if err != nil {
				t.Fatal(err)
			}
			var got []fn
			for _, f := range pt.Funcs {
				got = append(got, fn{f.Name, f.Kind, f.XTest})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("funcs:\n got %v\nwant %v", got, tc.want)
			}
			if pt.HasTestMain != tc.testMain {
				t.Errorf("HasTestMain = %v", pt.HasTestMain)
			}
		})
	}
}

func TestDiscoverNamesDedup(t *testing.T) {
	pt, err := Discover(fixturePkgs(t)["example.com/mod/a"])
	if err != nil {
		t.Fatal(err)
	}
	names := pt.Names()
	want := []string{"TestA", "TestAB", "TestA_B", "Test", "Test_x", "TestÄ", "TestB1", "TestX", "FuzzIn", "FuzzX", "ExampleFoo", "Example_unordered", "ExampleFoo_empty"}
	if !slices.Equal(names, want) {
		t.Errorf("Names:\n got %q\nwant %q", names, want)
	}
}

func TestDiscoverSetupError(t *testing.T) {
	_, err := Discover(fixturePkgs(t)["example.com/mod/badsig"])
	var se *SetupError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SetupError", err)
	}
	if want := "wrong signature for TestBad, must be: func TestBad(t *testing.T)"; se.Msg != want {
		t.Errorf("msg %q, want %q", se.Msg, want)
	}
}

func TestIsTest(t *testing.T) {
	for name, want := range map[string]bool{
		"Test": true, "TestX": true, "Test_x": true, "TestÄ": true, "Test1": true,
		"Testing": false, "Testä": false, "Tes": false, "xTest": false,
	} {
		if got := isTest(name, "Test"); got != want {
			t.Errorf("isTest(%q) = %v", name, got)
		}
	}
}
