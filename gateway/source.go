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
// that positions in errors point at what the caller wrote.
//
// A source whose first token is `package` must be a whole package main file
// with a main function; anything else is a list of statements, optionally
// preceded by import lines, that becomes the body of main.
func wrapSource(src string) (string, error) {
	if firstToken(src) == token.PACKAGE {
		return wrapFile(src)
	}
	return wrapStatements(src), nil
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
	f, err := parser.ParseFile(fset, "remote.go", src, parser.ImportsOnly)
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

func wrapStatements(src string) string {
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
	b.WriteString("package main; " + preludeImport + "; ")
	for _, l := range lines[:n] {
		b.WriteString(l)
	}
	if n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		b.WriteString("\n")
	}
	b.WriteString(preludeVar + "; func main() { ")
	for _, l := range lines[n:] {
		b.WriteString(l)
	}
	b.WriteString("\n}\n")
	return b.String()
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
