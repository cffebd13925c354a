package testcache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// testlogMagic starts every testlog the testing package writes
// (testing/internal/testdeps, known to cmd/go/internal/test).
const testlogMagic = "# test log\n"

// ErrBadTestlog is returned for a testlog that is missing its header or
// its final newline (the process did not finish: the testing package
// flushes the log only when m.Run returns) or has a line go does not know.
var ErrBadTestlog = errors.New("testcache: malformed testlog")

// Op is one input a test consulted, as its testlog records it.
type Op struct {
	Kind string // "getenv", "open", "stat" or "chdir"
	Name string // the variable name, or an absolute path
}

// Log is the set of inputs consulted by a package's test processes:
// each process's testlog (the file named by -test.testlogfile) parsed with
// its relative paths made absolute, and the processes merged. The zero
// value is an empty log, ready to use.
type Log struct {
	ops map[Op]struct{}
}

// ParseLog parses one test process's testlog. dir is the directory the
// process started in (the package directory, for a process run as go
// test runs it): relative paths are resolved against it, and after a
// `chdir` line against the new directory, as computeTestInputsID does.
func ParseLog(data []byte, dir string) (*Log, error) {
	if !bytes.HasPrefix(data, []byte(testlogMagic)) || data[len(data)-1] != '\n' {
		return nil, ErrBadTestlog
	}
	l := &Log{}
	pwd := dir
	for line := range strings.SplitSeq(string(data[len(testlogMagic):]), "\n") {
		if line == "" {
			continue
		}
		kind, name, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("%w: line %q", ErrBadTestlog, line)
		}
		switch kind {
		case "getenv":
		case "chdir":
			pwd = name // the testing package logs os.Getwd's absolute path
		case "open", "stat":
			if !filepath.IsAbs(name) {
				name = filepath.Join(pwd, name)
			}
		default:
			return nil, fmt.Errorf("%w: line %q", ErrBadTestlog, line)
		}
		l.add(Op{kind, name})
	}
	return l, nil
}

// ReadLog reads and parses a testlog file (see ParseLog).
func ReadLog(file, dir string) (*Log, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("testcache: read testlog: %w", err)
	}
	l, err := ParseLog(data, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, file)
	}
	return l, nil
}

func (l *Log) add(op Op) {
	if l.ops == nil {
		l.ops = map[Op]struct{}{}
	}
	l.ops[op] = struct{}{}
}

// Merge adds the inputs of o to l: a package run as several processes
// (tests split over workers, reruns) is cached as one result whose inputs
// are everything any of its processes consulted.
func (l *Log) Merge(o *Log) {
	for op := range o.ops {
		l.add(op)
	}
}

// Rebase rewrites the paths under from to the same paths under to: a
// process that ran in a copy of the package directory (a bundle on a
// worker machine) consulted files the controller has under the real one.
func (l *Log) Rebase(from, to string) {
	from, to = filepath.Clean(from), filepath.Clean(to)
	next := map[Op]struct{}{}
	for op := range l.ops {
		if op.Kind != "getenv" {
			if rel, ok := lexInDir(op.Name, from); ok {
				op.Name = filepath.Join(to, rel)
			}
		}
		next[op] = struct{}{}
	}
	l.ops = next
}

// Ops returns the inputs, sorted.
func (l *Log) Ops() []Op {
	ops := make([]Op, 0, len(l.ops))
	for op := range l.ops {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Kind != ops[j].Kind {
			return ops[i].Kind < ops[j].Kind
		}
		return ops[i].Name < ops[j].Name
	})
	return ops
}

// lexInDir reports whether path is lexically inside dir (or is dir) and
// returns it relative to dir.
func lexInDir(path, dir string) (string, bool) {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// inDir is search.InDir: path relative to dir if it is in dir's tree,
// trying harder with symbolic links resolved.
func inDir(path, dir string) (string, bool) {
	if rel, ok := lexInDir(path, dir); ok {
		return rel, true
	}
	xpath, err := filepath.EvalSymlinks(path)
	if err == nil && xpath != path {
		if rel, ok := lexInDir(xpath, dir); ok {
			return rel, true
		}
	} else {
		xpath = ""
	}
	if xdir, err := filepath.EvalSymlinks(dir); err == nil && xdir != dir {
		if rel, ok := lexInDir(path, xdir); ok {
			return rel, true
		}
		if xpath != "" {
			if rel, ok := lexInDir(xpath, xdir); ok {
				return rel, true
			}
		}
	}
	return "", false
}
