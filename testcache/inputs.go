package testcache

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ModTimeCutoff is go test's rule against file systems with coarse mtimes:
// a run that opened a regular file modified less than this long ago is
// not cached, and a cached result whose inputs include one is not used.
const ModTimeCutoff = 2 * time.Second

// ErrFileTooNew is returned (wrapped, with the file's name) when an input
// file was modified less than ModTimeCutoff ago.
var ErrFileTooNew = errors.New("file used as input is too new")

// ErrNoRoot is returned for a package outside any module, GOPATH or
// GOROOT (an empty Package.Root): go test does not cache those.
var ErrNoRoot = errors.New("package outside module root, GOPATH or GOROOT")

// Package says where a package's test processes ran, which is what its
// recorded inputs are checked against.
type Package struct {
	ImportPath string
	// Dir is the package directory: the test processes' starting
	// directory, after Log.Rebase for processes that ran in a copy.
	Dir string
	// Root is the module root, GOPATH entry or GOROOT holding the
	// package (go list's .Root). Files outside it are not checked, as in
	// go test; an empty Root disables caching.
	Root string
	// Env is the environment the test processes ran with (for the
	// variables they read); nil means os.Environ().
	Env []string
}

const inputsMagic = "# godist testcache inputs v1\n"

// record turns a log into the inputs list stored under a Key: paths inside
// the root are made root-relative (slash-separated), opens and stats
// outside it are dropped (go never rechecks them), sorted, one a line.
func record(l *Log, pkg Package) []byte {
	var b bytes.Buffer
	b.WriteString(inputsMagic)
	for _, op := range l.Ops() {
		name := op.Name
		if op.Kind != "getenv" {
			rel, ok := inDir(name, pkg.Root)
			switch {
			case ok:
				name = filepath.ToSlash(rel)
			case op.Kind != "chdir":
				continue
			}
		}
		fmt.Fprintf(&b, "%s %s\n", op.Kind, name)
	}
	return b.Bytes()
}

// parseRecord reads an inputs list back, paths resolved against root.
func parseRecord(data []byte, root string) ([]Op, error) {
	if !bytes.HasPrefix(data, []byte(inputsMagic)) || data[len(data)-1] != '\n' {
		return nil, errors.New("malformed inputs list")
	}
	var ops []Op
	for line := range strings.SplitSeq(string(data[len(inputsMagic):]), "\n") {
		if line == "" {
			continue
		}
		kind, name, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("malformed inputs list line %q", line)
		}
		ops = append(ops, Op{kind, name})
	}
	return ops, nil
}

// hashInputs is computeTestInputsID: one hash over the current state of
// every recorded input. With portable set it hashes what is the same on
// another machine with the same checkout (contents, root-relative names,
// no mtimes) instead of go's stat information.
func hashInputs(ops []Op, pkg Package, portable bool) (ID, error) {
	h := sha256.New()
	mode := "go"
	if portable {
		mode = "portable"
	}
	fmt.Fprintf(h, "testInputs %s\n", mode)
	env := envLookup(pkg.Env)
	// The runtime always reads GODEBUG, without telling the testlog.
	fmt.Fprintf(h, "env GODEBUG %x\n", hashGetenv(env, "GODEBUG"))
	for _, op := range ops {
		if op.Kind == "getenv" {
			fmt.Fprintf(h, "env %s %x\n", op.Name, hashGetenv(env, op.Name))
			continue
		}
		name := op.Name
		if !filepath.IsAbs(name) {
			name = filepath.Join(pkg.Root, filepath.FromSlash(name))
		}
		shown := name // what enters the hash
		if portable {
			shown = op.Name
		}
		switch op.Kind {
		case "chdir", "stat":
			fmt.Fprintf(h, "%s %s %x\n", op.Kind, shown, hashStat(name, portable))
		case "open":
			fh, err := hashOpen(name, portable)
			if err != nil {
				return ID{}, err
			}
			fmt.Fprintf(h, "open %s %x\n", shown, fh)
		default:
			return ID{}, fmt.Errorf("malformed inputs list op %q", op.Kind)
		}
	}
	var id ID
	h.Sum(id[:0])
	return id, nil
}

// envLookup returns os.LookupEnv over env (nil: the process's own); the
// last of duplicate entries wins, as in os/exec.
func envLookup(env []string) func(string) (string, bool) {
	if env == nil {
		return os.LookupEnv
	}
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func hashGetenv(env func(string) (string, bool), name string) ID {
	h := sha256.New()
	if v, ok := env(name); ok {
		h.Write([]byte{1})
		io.WriteString(h, v)
	} else {
		h.Write([]byte{0})
	}
	var id ID
	h.Sum(id[:0])
	return id
}

// hashOpen is go's hashOpen: the stat information, for a directory its
// entries with theirs, and ErrFileTooNew for a regular file modified in
// the last ModTimeCutoff. Portable mode hashes a regular file's content.
func hashOpen(name string, portable bool) (ID, error) {
	h := sha256.New()
	io.WriteString(h, "open\n")
	info, err := os.Stat(name)
	if err != nil {
		writeErr(h, err, portable)
		return sum(h), nil
	}
	writeStat(h, info, portable)
	switch {
	case info.IsDir():
		entries, err := os.ReadDir(name)
		if err != nil {
			writeErr(h, err, portable)
		}
		for _, e := range entries {
			fmt.Fprintf(h, "file %s ", e.Name())
			if fi, err := e.Info(); err != nil {
				writeErr(h, err, portable)
			} else {
				writeStat(h, fi, portable)
			}
		}
	case info.Mode().IsRegular():
		if time.Since(info.ModTime()) < ModTimeCutoff {
			return ID{}, fmt.Errorf("%w: %s", ErrFileTooNew, name)
		}
		if portable {
			f, err := os.Open(name)
			if err != nil {
				writeErr(h, err, portable)
				break
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				writeErr(h, err, portable)
			}
		}
	}
	return sum(h), nil
}

// hashStat is go's hashStat: Stat and Lstat information.
func hashStat(name string, portable bool) ID {
	h := sha256.New()
	io.WriteString(h, "stat\n")
	if info, err := os.Stat(name); err != nil {
		writeErr(h, err, portable)
	} else {
		writeStat(h, info, portable)
	}
	if info, err := os.Lstat(name); err != nil {
		writeErr(h, err, portable)
	} else {
		writeStat(h, info, portable)
	}
	return sum(h)
}

// writeStat is go's hashWriteStat; portable mode leaves out what differs
// between two checkouts of the same tree: mtimes and directory sizes.
func writeStat(h io.Writer, info fs.FileInfo, portable bool) {
	if !portable {
		fmt.Fprintf(h, "stat %d %x %v %v\n", info.Size(), uint64(info.Mode()), info.ModTime(), info.IsDir())
		return
	}
	size := info.Size()
	if info.IsDir() {
		size = 0
	}
	fmt.Fprintf(h, "stat %d %x %v\n", size, uint64(info.Mode()), info.IsDir())
}

// writeErr hashes a failed stat or read; portable mode keeps only the
// kind of failure, since the message names the machine's path.
func writeErr(h io.Writer, err error, portable bool) {
	if !portable {
		fmt.Fprintf(h, "err %v\n", err)
		return
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		io.WriteString(h, "err notexist\n")
	case errors.Is(err, fs.ErrPermission):
		io.WriteString(h, "err permission\n")
	default:
		io.WriteString(h, "err other\n")
	}
}

func sum(h hash.Hash) ID {
	var id ID
	h.Sum(id[:0])
	return id
}
