package gotool

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godist/godist/internal/proc"
)

// BuildExec builds reqs the way go test itself does: one
// `go test -exec SHIM` command, which compiles, vets and links each
// package's test binary and, as soon as a binary is linked, runs SHIM on
// it in the package directory. SHIM (a program that calls
// [MainIfBuildShim] first thing, such as godist) hands the binary over on
// a unix socket and exits; each package's result is delivered the moment
// its binary is handed over, while the go command goes on building the
// others. So the first tests start after the first link, as under go
// test, rather than after the last, and one go command builds all.
//
// Failures are reported as BuildGroups reports them: a package the go
// command names as its own build failure gets that output; any other
// package without a binary is built again alone with Build. Packages
// without test files and packages with load errors are answered as by
// BuildAll. shim is SHIM's argv (at least the program); all requests must
// share Dir, BuildFlags, Env, GoCmd and OutDir. BuildExec returns after
// the last done call (done calls are serialised); its goroutines have then
// ended.
func BuildExec(ctx context.Context, reqs []BuildRequest, shim []string, concurrency int, done func(BuildResult)) {
	var doneMu sync.Mutex
	deliver := func(r BuildResult) {
		doneMu.Lock()
		defer doneMu.Unlock()
		done(r)
	}
	var alone, rest []BuildRequest
	for _, req := range reqs {
		if !req.Pkg.HasTests() || req.Pkg.Error != nil {
			alone = append(alone, req)
			continue
		}
		rest = append(rest, req)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		BuildAll(ctx, alone, concurrency, deliver)
	}()
	if len(rest) > 0 {
		for _, r := range buildExec(ctx, rest, shim, concurrency, deliver) {
			deliver(r)
		}
	}
	wg.Wait()
}

// handOvers counts binaries delivered by shims (for tests: not rebuilt).
var handOvers atomic.Int64

// shimExe is this program when MainIfBuildShim found it can be its own
// build shim; "" otherwise.
var shimExe string

// BuildShim is the argv of a build shim for BuildExec: this program, when
// it called MainIfBuildShim first thing (a program that did not would, run
// as go test's -exec, run itself again and again); ok is false otherwise.
func BuildShim() (argv []string, ok bool) {
	if shimExe == "" {
		return nil, false
	}
	return []string{shimExe}, true
}

// BuildShimEnv holds the unix socket a build shim hands binaries to.
const BuildShimEnv = "GODIST_BUILD_SHIM"

// MainIfBuildShim makes the program a build shim when BuildExec's go
// command runs it (BuildShimEnv set): it hands its first argument, a test
// binary, and its working directory to the socket, waits until the binary
// was taken, and exits. Otherwise it returns at once.
func MainIfBuildShim() {
	sock := os.Getenv(BuildShimEnv)
	if sock == "" {
		if exe, err := os.Executable(); err == nil {
			shimExe = exe
		}
		return
	}
	if err := shimHandOver(sock); err != nil {
		fmt.Fprintf(os.Stderr, "godist build shim: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

type shimMsg struct {
	Dir string `json:"dir"`
	Bin string `json:"bin"`
}

func shimHandOver(sock string) error {
	if len(os.Args) < 2 {
		return errors.New("no test binary given")
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(os.Args[1])
	if err != nil {
		return err
	}
	conn, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	if err := json.NewEncoder(conn).Encode(shimMsg{Dir: dir, Bin: bin}); err != nil {
		return err
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if reply != "ok\n" {
		return errors.New(strings.TrimSpace(reply))
	}
	return nil
}

// buildExec runs the go command for rest, delivering each binary as the
// shim hands it over, and returns the results of the packages it did not
// deliver.
func buildExec(ctx context.Context, rest []BuildRequest, shim []string, concurrency int, deliver func(BuildResult)) []BuildResult {
	start := time.Now()
	req0 := rest[0]
	// Without a socket for the shims, build as BuildGroups does.
	fallback := func() []BuildResult {
		BuildGroups(ctx, rest, 0, concurrency, deliver)
		return nil
	}
	byDir := map[string]*BuildRequest{}
	for i := range rest {
		byDir[rest[i].Pkg.Dir] = &rest[i]
	}
	// A directory of its own under the system's temporary directory: a
	// unix socket path must be short (108 bytes on Linux).
	sockDir, err := os.MkdirTemp("", "gds")
	if err != nil {
		return fallback()
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fallback()
	}

	var mu sync.Mutex
	delivered := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the shims' hand-overs
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(time.Minute))
				var m shimMsg
				if err := json.NewDecoder(conn).Decode(&m); err != nil {
					return
				}
				req := byDir[m.Dir]
				if req == nil {
					fmt.Fprintf(conn, "no package requested in %s\n", m.Dir)
					return
				}
				out, err := filepath.Abs(filepath.Join(req.OutDir, BinaryName(req.Pkg.ImportPath)))
				if err == nil {
					err = linkOrCopy(m.Bin, out)
				}
				if err != nil {
					fmt.Fprintf(conn, "%v\n", err)
					return
				}
				io.WriteString(conn, "ok\n")
				mu.Lock()
				first := !delivered[req.Pkg.ImportPath]
				delivered[req.Pkg.ImportPath] = true
				mu.Unlock()
				if first {
					handOvers.Add(1)
					deliver(BuildResult{Pkg: req.Pkg, Binary: out, Duration: time.Since(start)})
				}
			}()
		}
	}()

	gocmd := req0.GoCmd
	if gocmd == "" {
		gocmd = "go"
	}
	quoted := make([]string, len(shim))
	for i, a := range shim {
		// go test splits -exec like cmd/internal/quoted: either quote
		// holds the other.
		if strings.Contains(a, "'") {
			quoted[i] = `"` + a + `"`
		} else {
			quoted[i] = "'" + a + "'"
		}
	}
	args := []string{"test", "-json", "-count=1", "-p=" + strconv.Itoa(max(concurrency, 1)), "-exec", strings.Join(quoted, " ")}
	args = append(args, req0.BuildFlags...)
	for _, req := range rest {
		args = append(args, req.Pkg.ImportPath)
	}
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = req0.Dir
	env := req0.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], BuildShimEnv+"="+sock)
	proc.Group(cmd, proc.Options{})
	byPath := map[string]*BuildRequest{}
	for i := range rest {
		byPath[rest[i].Pkg.ImportPath] = &rest[i]
	}
	stdout := &buildStream{onFail: func(pkg string, soFar []byte) {
		// A package's own build failure goes out as the go command
		// reports it; anything unclear waits for the end, as before.
		req := byPath[pkg]
		if req == nil || ctx.Err() != nil {
			return
		}
		lines, failed, unclear := ownBuildEvents(soFar, true)
		if !failed[pkg] || unclear[pkg] {
			return
		}
		mu.Lock()
		first := !delivered[pkg]
		delivered[pkg] = true
		mu.Unlock()
		if first {
			deliver(ownFailure(*req, lines, start))
		}
	}}
	cmd.Stdout = stdout
	cmd.Run() // failures not reported on the way are found per package below
	ln.Close()
	wg.Wait()

	// As buildGroup: each package's own build events; anything unclear
	// builds again alone.
	lines, failed, unclear := ownBuildEvents(stdout.Bytes(), true)
	var results []BuildResult
	for _, req := range rest {
		p := req.Pkg.ImportPath
		if delivered[p] {
			continue
		}
		if failed[p] && !unclear[p] && ctx.Err() == nil {
			results = append(results, ownFailure(req, lines, start))
			continue
		}
		if ctx.Err() != nil {
			results = append(results, BuildResult{Pkg: req.Pkg, Err: &BuildError{ImportPath: p, Err: ctx.Err()}})
			continue
		}
		results = append(results, Build(ctx, req))
	}
	return results
}

// linkOrCopy makes dst a copy of src: a hard link when both are on one
// file system, else a copy, renamed into place.
func linkOrCopy(src, dst string) error {
	os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
