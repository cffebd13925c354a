package scheduler

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/godist/godist/gotool"
)

// Kind is the kind of a top-level test function.
type Kind int

// Kinds in the order the testing package runs them.
const (
	KindTest    Kind = iota // func TestXxx(*testing.T)
	KindFuzz                // func FuzzXxx(*testing.F); its seed corpus runs as a test
	KindExample             // func ExampleXxx() with an // Output: comment
)

func (k Kind) String() string {
	switch k {
	case KindTest:
		return "test"
	case KindFuzz:
		return "fuzz"
	case KindExample:
		return "example"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// TestFunc is one top-level function the test binary runs.
type TestFunc struct {
	Name  string
	Kind  Kind
	XTest bool   // declared in the external _test package
	Pos   string // file:line
}

// PackageTests is what Discover found in one package.
type PackageTests struct {
	Pkg *gotool.Package
	// Funcs in the order the test binary runs them: tests (in-package files
	// sorted by name, then external _test files), fuzz targets, examples.
	// A name may occur twice (once in the package, once in its _test
	// package); both run under that one name.
	Funcs       []TestFunc
	HasTestMain bool
}

// SetupError is a test file problem that makes go test report the package
// as "[setup failed]" (a test function with a wrong signature, several
// TestMain). Building the package reports the same problem, with go's words.
type SetupError struct {
	Pos string
	Msg string
}

func (e *SetupError) Error() string { return e.Pos + ": " + e.Msg }

// Discover parses the package's test files (no type checking) and returns
// its top-level tests, fuzz targets and runnable examples, following the
// rules of cmd/go's test main generator.
func Discover(pkg *gotool.Package) (*PackageTests, error) {
	pt := &PackageTests{Pkg: pkg}
	var tests, fuzz, examples []TestFunc
	fset := token.NewFileSet()
	load := func(files []string, xtest bool) error {
		for _, name := range files {
			path := filepath.Join(pkg.Dir, name)
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv != nil {
					continue
				}
				name := fn.Name.Name
				pos := fset.Position(fn.Pos()).String()
				switch {
				case name == "TestMain":
					if isTestFunc(fn, "T") {
						tests = append(tests, TestFunc{Name: name, Kind: KindTest, XTest: xtest, Pos: pos})
						continue
					}
					if err := checkTestFunc(fn, "M", pos); err != nil {
						return err
					}
					if pt.HasTestMain {
						return &SetupError{Pos: pos, Msg: "multiple definitions of TestMain"}
					}
					pt.HasTestMain = true
				case isTest(name, "Test"):
					if err := checkTestFunc(fn, "T", pos); err != nil {
						return err
					}
					tests = append(tests, TestFunc{Name: name, Kind: KindTest, XTest: xtest, Pos: pos})
				case isTest(name, "Fuzz"):
					if err := checkTestFunc(fn, "F", pos); err != nil {
						return err
					}
					fuzz = append(fuzz, TestFunc{Name: name, Kind: KindFuzz, XTest: xtest, Pos: pos})
				case isTest(name, "Benchmark"):
					if err := checkTestFunc(fn, "B", pos); err != nil {
						return err
					}
				}
			}
			ex := doc.Examples(f)
			sort.Slice(ex, func(i, j int) bool { return ex[i].Order < ex[j].Order })
			for _, e := range ex {
				if e.Output == "" && !e.EmptyOutput {
					continue // compiled, never run
				}
				examples = append(examples, TestFunc{Name: "Example" + e.Name, Kind: KindExample, XTest: xtest, Pos: fset.Position(e.Code.Pos()).String()})
			}
		}
		return nil
	}
	// go list sorts the file lists by name; the generated test main lists
	// the package's own test files first, then the external ones.
	if err := load(sortedCopy(pkg.TestGoFiles), false); err != nil {
		return nil, fmt.Errorf("scheduler: discover %s: %w", pkg.ImportPath, err)
	}
	if err := load(sortedCopy(pkg.XTestGoFiles), true); err != nil {
		return nil, fmt.Errorf("scheduler: discover %s: %w", pkg.ImportPath, err)
	}
	pt.Funcs = append(append(tests, fuzz...), examples...)
	return pt, nil
}

func sortedCopy(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// Names returns the distinct names of the package's functions in run order
// (a name defined in both the package and its _test package once).
func (pt *PackageTests) Names() []string {
	names := make([]string, 0, len(pt.Funcs))
	seen := make(map[string]bool, len(pt.Funcs))
	for _, f := range pt.Funcs {
		if !seen[f.Name] {
			seen[f.Name] = true
			names = append(names, f.Name)
		}
	}
	return names
}

// Select returns a copy of pt holding only the functions that go test would
// run at the top level under filter f (nil f selects all).
func (pt *PackageTests) Select(f *Filter) *PackageTests {
	out := &PackageTests{Pkg: pt.Pkg, HasTestMain: pt.HasTestMain}
	for _, fn := range pt.Funcs {
		if f.Match(fn.Name) {
			out.Funcs = append(out.Funcs, fn)
		}
	}
	return out
}

// isTest is testing's rule: name is prefix, or prefix followed by a rune
// that is not lower case ("Testing" is not a test, "Test_x" and "TestÄ" are).
func isTest(name, prefix string) bool {
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	if len(name) == len(prefix) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(name[len(prefix):])
	return !unicode.IsLower(r)
}

// isTestFunc reports whether fn has the signature func(x *arg) or
// func(x *pkg.arg) with no results, as cmd/go checks without types.
func isTestFunc(fn *ast.FuncDecl, arg string) bool {
	if fn.Type.Results != nil && len(fn.Type.Results.List) > 0 ||
		fn.Type.Params.List == nil ||
		len(fn.Type.Params.List) != 1 ||
		len(fn.Type.Params.List[0].Names) > 1 {
		return false
	}
	ptr, ok := fn.Type.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	switch x := ptr.X.(type) {
	case *ast.Ident:
		return x.Name == arg
	case *ast.SelectorExpr:
		return x.Sel.Name == arg
	}
	return false
}

func checkTestFunc(fn *ast.FuncDecl, arg, pos string) error {
	var why string
	if !isTestFunc(fn, arg) {
		why = fmt.Sprintf("must be: func %s(%s *testing.%s)", fn.Name.Name, strings.ToLower(arg), arg)
	}
	if fn.Type.TypeParams.NumFields() > 0 {
		why = "test functions cannot have type parameters"
	}
	if why != "" {
		return &SetupError{Pos: pos, Msg: fmt.Sprintf("wrong signature for %s, %s", fn.Name.Name, why)}
	}
	return nil
}
