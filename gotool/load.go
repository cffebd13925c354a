package gotool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// LoadConfig says which packages to load and how.
type LoadConfig struct {
	Dir        string   // working directory of the go command ("" = current)
	Patterns   []string // as go test takes them; none means "."
	BuildFlags []string // -tags, -mod, -race, ... as for Build; -vet is dropped (go list rejects it)
	Env        []string // full environment for the go command; nil = inherit
	GoCmd      string   // go command to run; "" = "go"
	// Stderr gets the go command's warnings, as go test prints them
	// (`go: warning: "./x/..." matched no packages`); nil drops them.
	Stderr io.Writer
}

// Package is one package named by the patterns, in go test's order.
type Package struct {
	ImportPath   string
	Dir          string
	Name         string
	TestGoFiles  []string
	XTestGoFiles []string
	// Error is set when the package (or a dependency) could not be loaded;
	// go test reports such a package as "[setup failed]". It is never dropped.
	Error *PackageError
}

// HasTests reports whether the package has any _test.go files, i.e. whether
// go test would build and run a test binary for it rather than print
// "[no test files]".
func (p *Package) HasTests() bool {
	return len(p.TestGoFiles)+len(p.XTestGoFiles) > 0
}

// PackageError is a load or setup error of a package, as go list reports it.
type PackageError struct {
	ImportPath  string
	ImportStack []string
	Pos         string
	Err         string
}

func (e *PackageError) Error() string {
	if e.Pos != "" {
		return e.Pos + ": " + e.Err
	}
	return e.Err
}

// listPackage mirrors the fields of go list -json that Load uses.
type listPackage struct {
	ImportPath   string
	Dir          string
	Name         string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct {
		ImportStack []string
		Pos         string
		Err         string
	}
	DepsErrors []*struct {
		ImportStack []string
		Pos         string
		Err         string
	}
}

// ErrGoList is wrapped by errors from a go list process that failed as a
// whole (as opposed to per-package errors, which go in Package.Error).
var ErrGoList = errors.New("go list failed")

// ErrNoPackages is wrapped by Load's error when the patterns matched no
// package at all; go test then prints the go command's warnings and "no
// packages to test" (this error's text) and exits with status 1.
var ErrNoPackages = errors.New("no packages to test")

// Load runs `go list -e -json` and returns the packages in go test's order.
// Packages with errors are returned with Error set; a pattern go list
// could not expand (a directory that does not exist, a workspace root in
// no module) comes back as a package whose ImportPath is the pattern, as
// go test reports it. Patterns matching nothing at all give ErrNoPackages,
// after go list's warnings went to cfg.Stderr.
func Load(ctx context.Context, cfg LoadConfig) ([]*Package, error) {
	gocmd := cfg.GoCmd
	if gocmd == "" {
		gocmd = "go"
	}
	args := []string{"list", "-e", "-json=ImportPath,Dir,Name,TestGoFiles,XTestGoFiles,Error,DepsErrors"}
	args = append(args, listFlags(cfg.BuildFlags)...)
	args = append(args, "--")
	args = append(args, cfg.Patterns...)
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = cfg.Dir
	cmd.Env = cfg.Env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gotool: load: %w: %v: %s", ErrGoList, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if cfg.Stderr != nil {
		cfg.Stderr.Write(stderr.Bytes())
	}
	var pkgs []*Package
	dec := json.NewDecoder(&stdout)
	for {
		var lp listPackage
		if err := dec.Decode(&lp); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("gotool: load: decode go list output: %w", err)
		}
		p := &Package{
			ImportPath:   lp.ImportPath,
			Dir:          lp.Dir,
			Name:         lp.Name,
			TestGoFiles:  lp.TestGoFiles,
			XTestGoFiles: lp.XTestGoFiles,
		}
		switch {
		case lp.Error != nil:
			p.Error = &PackageError{ImportPath: lp.ImportPath, ImportStack: lp.Error.ImportStack, Pos: lp.Error.Pos, Err: lp.Error.Err}
		case len(lp.DepsErrors) > 0:
			e := lp.DepsErrors[0]
			p.Error = &PackageError{ImportPath: lp.ImportPath, ImportStack: e.ImportStack, Pos: e.Pos, Err: e.Err}
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("gotool: load: %w", ErrNoPackages)
	}
	return pkgs, nil
}

// listFlags drops the flags go test takes with the build flags but go list
// does not: -vet (as -vet=x or -vet x).
func listFlags(flags []string) []string {
	var out []string
	for i := 0; i < len(flags); i++ {
		f := strings.TrimPrefix(flags[i], "-")
		f = strings.TrimPrefix(f, "-")
		switch {
		case f == "vet":
			i++ // its value
		case strings.HasPrefix(f, "vet="):
		default:
			out = append(out, flags[i])
		}
	}
	return out
}
