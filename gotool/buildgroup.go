package gotool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/collector"
)

// groupSizes is how BuildGroups cuts the early packages: one go command for
// the first, one for the next three; all the rest go to one more. A go
// command costs a few hundred milliseconds of its own before it compiles
// anything, so building each package alone spends seconds on a suite of
// many packages; one command for everything would start no test before the
// last link. The caller orders the packages longest work first and says how
// many of them are worth starting early.
var groupSizes = []int{1, 3}

// BuildGroups builds reqs like BuildAll, with far fewer go commands:
// packages go in groups to one `go test -c -o DIR/ pkg...` each (Go 1.21+),
// at most concurrency groups at a time, and each package's result is
// delivered when its group's command ends. A package whose binary the group
// command did not produce (a compile or vet error, a setup failure, an
// error in a dependency) is built again alone with Build, so that its
// failure is reported exactly as for one package (from the group's own
// events when they name the package, else by building it alone). Packages
// whose last path element another package in the group shares (both would
// be NAME.test) go to extra groups built alongside. All requests must share Dir, BuildFlags, Env and
// GoCmd, and OutDir.
//
// early is how many of the leading requests (packages with long tests) get
// go commands of their own (groupSizes); 0 builds everything in one.
func BuildGroups(ctx context.Context, reqs []BuildRequest, early, concurrency int, done func(BuildResult)) {
	var groups [][]BuildRequest
	var alone []BuildRequest
	var rest []BuildRequest
	for _, req := range reqs {
		if !req.Pkg.HasTests() || req.Pkg.Error != nil {
			alone = append(alone, req) // answered without a group command
			continue
		}
		rest = append(rest, req)
	}
	for _, size := range groupSizes {
		if len(rest) == 0 || early <= 0 {
			break
		}
		n := min(size, len(rest), early)
		groups = append(groups, rest[:n])
		rest = rest[n:]
		early -= n
	}
	if len(rest) > 0 {
		groups = append(groups, rest)
	}
	// Within a group every binary name must be unique: a package whose
	// name the group already has goes to an extra group, which builds at
	// the same time as the others rather than after them.
	var extra [][]BuildRequest
	for i, g := range groups {
		var rounds []map[string]bool
		var keep []BuildRequest
		var more [][]BuildRequest
		for _, req := range g {
			name := path.Base(req.Pkg.ImportPath)
			r := 0
			for r < len(rounds) && rounds[r][name] {
				r++
			}
			if r == len(rounds) {
				rounds = append(rounds, map[string]bool{})
			}
			rounds[r][name] = true
			if r == 0 {
				keep = append(keep, req)
				continue
			}
			if r > len(more) {
				more = append(more, nil)
			}
			more[r-1] = append(more[r-1], req)
		}
		groups[i] = keep
		extra = append(extra, more...)
	}
	groups = append(groups, extra...)
	var doneMu sync.Mutex
	deliver := func(r BuildResult) {
		doneMu.Lock()
		defer doneMu.Unlock()
		done(r)
	}
	var wg sync.WaitGroup
	// The packages answered without a group command (no tests, load
	// errors) cost no compiling: at once.
	wg.Add(1)
	go func() {
		defer wg.Done()
		BuildAll(ctx, alone, concurrency, deliver)
	}()
	sem := make(chan struct{}, max(concurrency, 1))
	for i, g := range groups {
		if len(g) == 0 {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for _, req := range g {
				deliver(BuildResult{Pkg: req.Pkg, Err: &BuildError{ImportPath: req.Pkg.ImportPath, Err: ctx.Err()}})
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for _, r := range buildGroup(ctx, g, i) {
				deliver(r)
			}
		}()
	}
	wg.Wait()
}

// buildGroup runs one go command for the group and returns a result per
// package, building again alone those it did not produce.
func buildGroup(ctx context.Context, g []BuildRequest, n int) []BuildResult {
	start := time.Now()
	req0 := g[0]
	results := make([]BuildResult, len(g))
	dir := filepath.Join(req0.OutDir, "group-"+strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		for i, req := range g {
			results[i] = Build(ctx, req)
		}
		return results
	}
	defer os.RemoveAll(dir)
	gocmd := req0.GoCmd
	if gocmd == "" {
		gocmd = "go"
	}
	args := append([]string{"test", "-c", "-json", "-o", dir + string(filepath.Separator)}, req0.BuildFlags...)
	for _, req := range g {
		args = append(args, req.Pkg.ImportPath)
	}
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = req0.Dir
	cmd.Env = req0.Env
	cmd.WaitDelay = 5 * time.Second
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Run() // failures are found per package below
	// Each package's own events: build output and failure under an
	// ImportPath "X [P.test]" (X is P, P_test or P's test variant of a
	// dependency). Anything else — setup failures, which go on stderr, a
	// dependency's own error — makes the package build again alone.
	lines, failed, unclear := ownBuildEvents(stdout.Bytes(), false)
	for i, req := range g {
		built := filepath.Join(dir, path.Base(req.Pkg.ImportPath)+".test")
		out, err := filepath.Abs(filepath.Join(req.OutDir, BinaryName(req.Pkg.ImportPath)))
		if err == nil && !failed[req.Pkg.ImportPath] && ctx.Err() == nil {
			if _, serr := os.Stat(built); serr == nil && os.Rename(built, out) == nil {
				results[i] = BuildResult{Pkg: req.Pkg, Binary: out, Duration: time.Since(start)}
				continue
			}
		}
		if failed[req.Pkg.ImportPath] && !unclear[req.Pkg.ImportPath] && ctx.Err() == nil {
			results[i] = ownFailure(req, lines, start)
			continue
		}
		// Something else (a dependency's error, the go command's own): alone.
		results[i] = Build(ctx, req)
	}
	return results
}

var errBuildFailed = errors.New("build failed")

// ownBuildEvents sorts the -json output of a go test command that built
// many packages: each package's own build events (ImportPath "X [P.test]",
// X being P, P_test or P's test variant of a dependency) by P, the
// packages with a build-fail among them, and the packages with events that
// name no test build (setup failures, unless skipPackage: then events
// without an ImportPath, which a go test that ran the binaries prints for
// every package, are passed over).
func ownBuildEvents(out []byte, skipPackage bool) (lines map[string][]byte, failed, unclear map[string]bool) {
	lines, failed, unclear = map[string][]byte{}, map[string]bool{}, map[string]bool{}
	for line := range bytes.Lines(out) {
		var e collector.Event
		if json.Unmarshal(line, &e) != nil || skipPackage && e.ImportPath == "" {
			continue
		}
		pkg := testOf(e.ImportPath)
		if pkg == "" {
			unclear[e.Package] = true
			continue
		}
		lines[pkg] = append(lines[pkg], line...)
		if e.Action == "build-fail" {
			failed[pkg] = true
		}
	}
	return lines, failed, unclear
}

// ownFailure is the result of a package whose build failed by its own
// fault, in the go command's words, as Build reports it.
func ownFailure(req BuildRequest, lines map[string][]byte, start time.Time) BuildResult {
	res := BuildResult{Pkg: req.Pkg, Duration: time.Since(start)}
	res.parseBuildJSON(lines[req.Pkg.ImportPath])
	res.Err = &BuildError{ImportPath: req.Pkg.ImportPath, Output: res.Output, Err: errBuildFailed}
	return res
}

// testOf returns P for a build event's ImportPath "X [P.test]", or "".
func testOf(importPath string) string {
	i := strings.Index(importPath, " [")
	if i < 0 || !strings.HasSuffix(importPath, ".test]") {
		return ""
	}
	return importPath[i+2 : len(importPath)-len(".test]")]
}
