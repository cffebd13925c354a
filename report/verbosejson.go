package report

import (
	"strings"

	"github.com/godist/godist/collector"
)

// How -json -v is shaped.
//
// go test -json -v runs its binaries with -test.v=true, not test2json: the
// testing package then holds a subtest's `--- PASS: T/sub (0.00s)` line
// until its parent ends, and prints it under the parent's, indented four
// spaces per level (the same replay text.go does for -v text). test2json
// reads that and attributes each line to its test, so in go test's -json
// -v stream a top-level test ends with its own header, then each
// subtest's header and result event, deepest last, then its own result:
//
//	output T    "--- PASS: T (0.30s)\n"
//	output T/a  "    --- PASS: T/a (0.10s)\n"
//	output T/a/b "        --- PASS: T/a/b (0.10s)\n"
//	pass   T/a/b
//	pass   T/a
//	pass   T
//
// godist's binaries run in test2json mode, where each header comes as its
// test ends, unindented. verboseJSON moves and indents the headers and
// result events of subtests into that shape; everything else (run,
// output of logs, pause/cont, attr) passes through where it was.

// verboseJSON reshapes a test2json-mode stream into go test -json -v's.
type verboseJSON struct {
	next Renderer
	pkgs map[string]*vjPackage
}

type vjPackage struct {
	tests map[string]*vjTest
}

// vjTest is one test's place in the tree and its held block: its header,
// its finished subtests' blocks, and its result event.
type vjTest struct {
	parent *vjTest
	depth  int
	done   bool
	block  []collector.Event
	header bool // block starts with its header
}

// newVerboseJSON returns a renderer that passes e's stream, in go test
// -json -v's shape, to next.
func newVerboseJSON(next Renderer) Renderer {
	return &verboseJSON{next: next, pkgs: map[string]*vjPackage{}}
}

func (v *verboseJSON) Close() error { return v.next.Close() }

func (v *verboseJSON) Event(e collector.Event) error {
	if e.Package == "" {
		return v.next.Event(e)
	}
	p := v.pkgs[e.Package]
	if p == nil {
		p = &vjPackage{tests: map[string]*vjTest{}}
		v.pkgs[e.Package] = p
	}
	if e.Test == "" {
		if e.IsPackageEnd() {
			// Whatever is still held (a test whose process died before
			// its parent ended) comes out before the package's end.
			for _, t := range p.tests {
				if t.parent == nil {
					if err := v.emit(t.block); err != nil {
						return err
					}
					t.block = nil
				}
			}
			delete(v.pkgs, e.Package)
		}
		return v.next.Event(e)
	}
	t := p.tests[e.Test]
	if e.Action == "run" && (t == nil || t.done) {
		t = p.start(e.Test)
	}
	if t == nil {
		return v.next.Event(e)
	}
	switch {
	case e.Action == "output" && isHeaderOf(e.Output, e.Test) && !t.header && !t.done:
		e.Output = strings.Repeat(indent, t.depth) + strings.TrimLeft(e.Output, " ")
		t.block = append([]collector.Event{e}, t.block...)
		t.header = true
		return nil
	case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
		if t.done {
			return v.next.Event(e)
		}
		t.done = true
		block := append(t.block, e)
		t.block = nil
		if t.parent == nil {
			return v.emit(block)
		}
		t.parent.block = append(t.parent.block, block...)
		return nil
	}
	return v.next.Event(e)
}

func (v *verboseJSON) emit(events []collector.Event) error {
	for _, e := range events {
		if err := v.next.Event(e); err != nil {
			return err
		}
	}
	return nil
}

// start records test name as running: its parent is the longest running
// test whose name prefixes it (t.Run("a/b") makes T/a/b a child of T).
func (p *vjPackage) start(name string) *vjTest {
	t := &vjTest{}
	for q := name; ; {
		i := strings.LastIndexByte(q, '/')
		if i < 0 {
			break
		}
		q = q[:i]
		if parent := p.tests[q]; parent != nil && !parent.done {
			t.parent, t.depth = parent, parent.depth+1
			break
		}
	}
	p.tests[name] = t
	return t
}

// isHeaderOf reports whether line is test's result header, `--- PASS:
// name (0.00s)`, indented or not.
func isHeaderOf(line, test string) bool {
	s := strings.TrimLeft(line, " ")
	for _, h := range []string{"--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if rest, ok := strings.CutPrefix(s, h); ok {
			return strings.HasPrefix(rest, test+" (") || rest == test+"\n"
		}
	}
	return false
}
