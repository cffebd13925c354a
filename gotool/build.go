package gotool

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/collector"
)

// BuildRequest asks for one package's test binary.
type BuildRequest struct {
	Pkg *Package
	// Dir is the go command's working directory (the user's, so compiler
	// messages name files as go test would); "" = current.
	Dir    string
	OutDir string // directory for the binary; must exist
	// BuildFlags are go test's build flags (-tags, -race, -cover...) and
	// -vet; `go test -c` runs vet with go test's default checks, and a vet
	// failure fails the build with vet's output, as under go test.
	BuildFlags []string
	Env        []string // nil = inherit
	GoCmd      string   // "" = "go"
}

// BuildResult is the outcome of one BuildRequest.
type BuildResult struct {
	Pkg    *Package
	Binary string // absolute path of the test binary; "" when none was built
	// NoTestFiles is set for a package without _test.go files: go test
	// prints "[no test files]" and builds nothing; neither does Build.
	NoTestFiles bool
	// Output is the go command's error output when the build failed
	// (compiler errors, vet findings, setup errors), as go test prints it
	// on stderr before the package's FAIL line ("# pkg" header included).
	Output string
	// BuildEvents are the build-output and build-fail events exactly as
	// go test -json prints them before the package's start event (from
	// `go test -c -json`), and FailedBuild the value go test puts in the
	// package's fail event (e.g. "example.com/p [example.com/p.test]").
	BuildEvents []collector.Event
	FailedBuild string
	// SetupFailed: go test would say "FAIL\tpkg [setup failed]" rather
	// than "[build failed]" (load errors, errors in test imports, test
	// functions with wrong signatures).
	SetupFailed bool
	Err         error // non-nil: the package is a build failure (see BuildError)
	Duration    time.Duration
}

// BuildError is the error of a failed build. Output holds the go command's
// messages.
type BuildError struct {
	ImportPath string
	Output     string
	Err        error // the exit error, or the package's load error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("build %s: %v", e.ImportPath, e.Err)
}

func (e *BuildError) Unwrap() error { return e.Err }

// BinaryName is a file name for importPath's test binary that is unique
// per import path: the sanitised path plus a short hash of the exact path
// (so example.com/a/util and example.com/b/util do not collide, nor do
// paths that sanitise alike).
func BinaryName(importPath string) string {
	sum := sha256.Sum256([]byte(importPath))
	var b strings.Builder
	for _, r := range importPath {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 80 {
		name = name[len(name)-80:]
	}
	name += "-" + hex.EncodeToString(sum[:4]) + ".test"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return name
}

// Build runs `go test -c -o OutDir/BinaryName [flags] importpath`. It does
// not start goroutines of its own; the child is killed when ctx ends.
func Build(ctx context.Context, req BuildRequest) (res BuildResult) {
	start := time.Now()
	res.Pkg = req.Pkg
	defer func() { res.Duration = time.Since(start) }()
	// A package with a load error is still handed to go test -c: it fails
	// at once and words the failure exactly as go test does.
	if !req.Pkg.HasTests() && req.Pkg.Error == nil {
		res.NoTestFiles = true
		return res
	}
	if req.Pkg.Error != nil && strings.Contains(req.Pkg.ImportPath, "...") {
		res.patternFailure()
		return res
	}
	gocmd := req.GoCmd
	if gocmd == "" {
		gocmd = "go"
	}
	out, err := filepath.Abs(filepath.Join(req.OutDir, BinaryName(req.Pkg.ImportPath)))
	if err != nil {
		res.Err = &BuildError{ImportPath: req.Pkg.ImportPath, Err: err}
		return res
	}
	args := append([]string{"test", "-c", "-json", "-o", out}, req.BuildFlags...)
	args = append(args, req.Pkg.ImportPath)
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = req.Dir
	cmd.Env = req.Env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		res.parseBuildJSON(stdout.Bytes())
		res.Output += stderr.String()
		if res.Err == nil {
			res.Err = &BuildError{ImportPath: req.Pkg.ImportPath, Output: res.Output, Err: err}
		}
		return res
	}
	if _, err := os.Stat(out); err != nil {
		res.Output = stdout.String() + stderr.String()
		res.Err = &BuildError{ImportPath: req.Pkg.ImportPath, Output: res.Output, Err: errors.New("go test -c produced no binary")}
		return res
	}
	res.Binary = out
	return res
}

// patternFailure reports a pattern go list could not expand (its "package"
// is the pattern, with the error) in go test's words. Handing the pattern
// to go test -c would build the packages it did match as well, or refuse
// -o with several packages.
func (res *BuildResult) patternFailure() {
	ip, msg := res.Pkg.ImportPath, res.Pkg.Error.Error()
	res.Output = "# " + ip + "\n" + msg + "\n"
	res.BuildEvents = []collector.Event{
		{ImportPath: ip, Action: "build-output", Output: "# " + ip + "\n"},
		{ImportPath: ip, Action: "build-output", Output: msg + "\n"},
		{ImportPath: ip, Action: "build-fail"},
	}
	res.FailedBuild = ip
	res.SetupFailed = true
	res.Err = &BuildError{ImportPath: ip, Output: res.Output, Err: res.Pkg.Error}
}

// BuildAll builds reqs with at most concurrency (<=0: runtime.NumCPU())
// builds at a time, in request order, and calls done with each result as
// soon as it is ready. done calls are serialised (never concurrent). BuildAll
// returns after the last done call; its goroutines have then ended. When
// ctx ends, requests not yet started are reported with ctx's error.
func BuildAll(ctx context.Context, reqs []BuildRequest, concurrency int, done func(BuildResult)) {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	var (
		wg     sync.WaitGroup
		doneMu sync.Mutex
		sem    = make(chan struct{}, concurrency)
	)
	deliver := func(r BuildResult) {
		doneMu.Lock()
		defer doneMu.Unlock()
		done(r)
	}
	for _, req := range reqs {
		if !req.Pkg.HasTests() && req.Pkg.Error == nil {
			deliver(Build(ctx, req)) // no process: answer at once
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			deliver(BuildResult{Pkg: req.Pkg, Err: &BuildError{ImportPath: req.Pkg.ImportPath, Err: ctx.Err()}})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			deliver(Build(ctx, req))
		}()
	}
	wg.Wait()
}

// parseBuildJSON reads go test -c -json's stdout: build events go to
// BuildEvents and Output; a package-level "[setup failed]" line sets
// SetupFailed (go test prints its own FAIL line there, which is the
// caller's to print, so it is not kept). Lines that are not JSON are kept
// in Output.
func (res *BuildResult) parseBuildJSON(b []byte) {
	var out strings.Builder
	for line := range bytes.Lines(b) {
		var e collector.Event
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			out.Write(line)
			continue
		}
		switch e.Action {
		case "build-output":
			out.WriteString(e.Output)
			res.BuildEvents = append(res.BuildEvents, e)
		case "build-fail":
			res.BuildEvents = append(res.BuildEvents, e)
			res.FailedBuild = e.ImportPath
		case "output":
			if strings.Contains(e.Output, "[setup failed]") {
				res.SetupFailed = true
			}
		case "fail":
			if e.FailedBuild != "" {
				res.FailedBuild = e.FailedBuild
			}
		}
	}
	res.Output = out.String()
}
