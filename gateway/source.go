package gateway

import (
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// preludeImport and preludeVar predeclare `channel` in remote code. The
// alias keeps the name free for an explicit `import "godist"`.
const (
	preludeImport = `import __godist "godist"`
	preludeVar    = `var channel = __godist.Channel()`
)

// wrapSource turns remote source into a complete package main file that
// declares `channel`, keeping the line numbers of the original text so
// that positions in errors point at what the caller wrote (yaegi mishandles
// //line directives, so the prelude shares lines with the caller's code).
//
// A source whose first token is `package` must be a whole package main file
// with a main function; anything else is a list of statements, optionally
// preceded by import lines, that becomes the body of main.
//
// shifts says how many bytes the wrapper put before the caller's text on
// some lines, to correct columns in positions.
func wrapSource(src string) (wrapped string, shifts map[int]int, err error) {
	if firstToken(src) == token.PACKAGE {
		wrapped, err = wrapFile(src)
		return wrapped, nil, err
	}
	wrapped, shifts = wrapStatements(src)
	return wrapped, shifts, nil
}

func firstToken(src string) token.Token {
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile("", fset.Base(), len(src)), []byte(src), nil, 0)
	_, tok, _ := s.Scan()
	return tok
}

func wrapFile(src string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, remoteFile, src, parser.ImportsOnly)
	if err != nil {
		return "", fmt.Errorf("parse remote source: %w", err)
	}
	if f.Name.Name != "main" {
		return "", fmt.Errorf("parse remote source: package %q: remote source must be package main or a list of statements", f.Name.Name)
	}
	end := f.Name.End()
	if n := len(f.Decls); n > 0 {
		end = f.Decls[n-1].End() // ImportsOnly: Decls are the import declarations
	}
	off := fset.Position(end).Offset
	return src[:off] + "; " + preludeImport + "; " + preludeVar + src[off:], nil
}

// statementsPrefix is what wrapStatements puts before line 1 of the
// caller's text: columns on that line are shifted by its length.
const statementsPrefix = "package main; " + preludeImport + "; "

func wrapStatements(src string) (string, map[int]int) {
	lines := strings.SplitAfter(src, "\n")
	n := 0 // number of leading import (or blank/comment) lines
	inBlock := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case inBlock:
			if strings.HasPrefix(t, ")") {
				inBlock = false
			}
		case t == "" || strings.HasPrefix(t, "//"):
		case isImportLine(t):
			if strings.HasPrefix(strings.TrimSpace(t[len("import"):]), "(") && !strings.Contains(t, ")") {
				inBlock = true
			}
		default:
			goto body
		}
		n = i + 1
	}
body:
	var b strings.Builder
	b.WriteString(statementsPrefix)
	for _, l := range lines[:n] {
		b.WriteString(l)
	}
	if n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		b.WriteString("\n")
	}
	// On the first body line: line numbers stay those of the caller.
	const mainPrefix = preludeVar + "; func main() { "
	shifts := map[int]int{1: len(statementsPrefix)}
	shifts[n+1] += len(mainPrefix)
	b.WriteString(preludeVar + "; func main() { ")
	for _, l := range lines[n:] {
		b.WriteString(l)
	}
	b.WriteString("\n}\n")
	return b.String(), shifts
}

func isImportLine(t string) bool {
	const kw = "import"
	if !strings.HasPrefix(t, kw) || len(t) == len(kw) {
		return false
	}
	switch t[len(kw)] {
	case ' ', '\t', '(', '"', '`':
		return true
	}
	return false
}
