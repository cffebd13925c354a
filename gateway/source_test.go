package gateway

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestWrapSource(t *testing.T) {
	tests := []struct {
		name, src string
		// line of the marker "X()" in the wrapped file, which must equal
		// its line in src
	}{
		{"statements", "x := 1\nX()\n_ = x"},
		{"imports", "import \"fmt\"\nimport \"os\"\nX()\nfmt.Println(os.Args)"},
		{"import block", "import (\n\t\"fmt\"\n)\n\n// comment\nX()\nfmt.Println()"},
		{"aliased import", "import f \"fmt\"\nX(); f.Println()"},
		{"no trailing newline after import", "import \"fmt\""},
		{"identifier starting with import", "importThing := 1\nX()\n_ = importThing"},
		{"file", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tX()\n\tfmt.Println()\n}\n"},
		{"file without imports", "// Doc.\npackage main\n\nfunc main() {\n\tX()\n}\n"},
		{"file with import block and comment", "package main\n\nimport (\n\t\"fmt\" // c\n)\n\nfunc main() { X(); fmt.Println() }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := wrapSource(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "w.go", out, 0)
			if err != nil {
				t.Fatalf("wrapped source does not parse: %v\n%s", err, out)
			}
			if f.Name.Name != "main" {
				t.Errorf("package %s", f.Name.Name)
			}
			if !strings.Contains(out, preludeVar) {
				t.Errorf("no channel prelude in\n%s", out)
			}
			if i := strings.Index(tt.src, "X()"); i >= 0 {
				want := strings.Count(tt.src[:i], "\n") + 1
				j := strings.Index(out, "X()")
				if got := fset.Position(f.Pos() + token.Pos(j-fset.Position(f.Pos()).Offset)).Line; got != want {
					t.Errorf("X() moved from line %d to %d:\n%s", want, got, out)
				}
			}
		})
	}
}

func TestWrapSourceErrors(t *testing.T) {
	for _, src := range []string{"package foo\nfunc main() {}", "package main\nimport \"fmt"} {
		if out, _, err := wrapSource(src); err == nil {
			t.Errorf("wrapSource(%q) = %q, want error", src, out)
		}
	}
}
