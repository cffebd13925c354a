package scheduler

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Filter applies go test's -run and -skip to top-level names exactly as
// package testing does (testing/match.go): each pattern is split on
// unbracketed '|' into alternatives and on unbracketed '/' into levels; a
// top-level name is selected when the first level of some -run alternative
// matches it (unanchored), unless the first -skip alternative whose first
// level matches it has only one level. Deeper levels are left to the test
// binary.
type Filter struct {
	run, skip string
	runAlts   []alternative // nil: -run empty, everything matches
	skipAlts  []alternative // nil: nothing skipped
}

// alternative is one '|'-separated part of a pattern, split into levels.
type alternative struct {
	levels []string       // raw text per level, as the user wrote it
	first  *regexp.Regexp // compiled first level (after testing's rewrite)
	rest   string         // levels[1:] joined by "/"; "" for one level
}

// PatternError reports an invalid -run or -skip pattern, in the words the
// test binary would use.
type PatternError struct {
	Flag    string // "-test.run" or "-test.skip"
	Pattern string
	Err     error
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("invalid regexp for %s %q: %v", e.Flag, e.Pattern, e.Err)
}

func (e *PatternError) Unwrap() error { return e.Err }

// NewFilter compiles the user's -run and -skip values ("" = not given).
func NewFilter(run, skip string) (*Filter, error) {
	f := &Filter{run: run, skip: skip}
	var err error
	if run != "" {
		if f.runAlts, err = compilePattern(run, "-test.run"); err != nil {
			return nil, fmt.Errorf("scheduler: filter: %w", err)
		}
	}
	if skip != "" {
		if f.skipAlts, err = compilePattern(skip, "-test.skip"); err != nil {
			return nil, fmt.Errorf("scheduler: filter: %w", err)
		}
	}
	return f, nil
}

func compilePattern(pat, flag string) ([]alternative, error) {
	var alts []alternative
	for _, levels := range splitPattern(pat) {
		a := alternative{levels: levels, rest: strings.Join(levels[1:], "/")}
		for i, l := range levels {
			re, err := regexp.Compile(rewrite(l))
			if err != nil {
				return nil, &PatternError{Flag: flag, Pattern: pat, Err: fmt.Errorf("element %d (%q): %w", i, l, err)}
			}
			if i == 0 {
				a.first = re
			}
		}
		alts = append(alts, a)
	}
	return alts, nil
}

// Match reports whether the test binary would run the top-level function
// name under this filter. A nil filter matches everything.
func (f *Filter) Match(name string) bool {
	if f == nil {
		return true
	}
	if f.runAlts != nil && !f.matchRun(name) {
		return false
	}
	for _, a := range f.skipAlts {
		// As in testing's alternationMatch, the first alternative whose
		// first level matches decides. With more levels it matches only
		// partially and the test runs, to skip inside it.
		if a.first.MatchString(name) {
			return len(a.levels) > 1
		}
	}
	return true
}

func (f *Filter) matchRun(name string) bool {
	for _, a := range f.runAlts {
		if a.first.MatchString(name) {
			return true
		}
	}
	return false
}

// RunArg is the -test.run value for a batch that must run exactly the
// top-level functions names (all selected by f) and keep the user's
// deeper levels: with -run 'TestA/sub' the batch [TestA] gets
// `^(TestA)$/sub`. With no names it returns "^$" (run the binary, and
// TestMain, but no test, as go test does when -run matches nothing).
func (f *Filter) RunArg(names []string) string {
	if len(names) == 0 {
		return "^$"
	}
	if f == nil || f.runAlts == nil {
		return RunPattern(names)
	}
	sameRest := true
	for _, a := range f.runAlts[1:] {
		if a.rest != f.runAlts[0].rest {
			sameRest = false
			break
		}
	}
	if sameRest {
		return withRest(RunPattern(names), f.runAlts[0].rest)
	}
	// Alternatives with different deeper levels: keep each alternative,
	// restricted to the batch names its first level matches, so every test
	// sees the same set of subtest filters as under the user's pattern.
	var parts []string
	for _, a := range f.runAlts {
		var mine []string
		for _, n := range names {
			if a.first.MatchString(n) {
				mine = append(mine, n)
			}
		}
		if len(mine) > 0 {
			parts = append(parts, withRest(RunPattern(mine), a.rest))
		}
	}
	return strings.Join(parts, "|")
}

func withRest(top, rest string) string {
	if rest == "" {
		return top
	}
	return top + "/" + rest
}

// SkipArg is the -test.skip value to pass to every batch: the user's own.
// Top-level names it skips are never in a batch; its deeper levels apply
// inside the binary as under go test.
func (f *Filter) SkipArg() string {
	if f == nil {
		return ""
	}
	return f.skip
}

// RunPattern returns a -test.run pattern selecting exactly the given
// top-level names: ^(A|B)$ with regexp metacharacters quoted, so that TestA
// does not select TestAB or TestA_B.
func RunPattern(names []string) string {
	var b strings.Builder
	b.WriteString("^(")
	for i, n := range names {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(regexp.QuoteMeta(n))
	}
	b.WriteString(")$")
	return b.String()
}

// splitPattern splits a pattern into alternatives and levels exactly like
// testing.splitRegexp.
func splitPattern(s string) [][]string {
	var alts [][]string
	var a []string
	cs, cp := 0, 0
	for i := 0; i < len(s); {
		switch s[i] {
		case '[':
			cs++
		case ']':
			if cs--; cs < 0 {
				cs = 0
			}
		case '(':
			if cs == 0 {
				cp++
			}
		case ')':
			if cs == 0 {
				cp--
			}
		case '\\':
			i++
		case '/', '|':
			if cs == 0 && cp == 0 {
				a = append(a, s[:i])
				if s[i] == '|' {
					alts = append(alts, a)
					a = nil
				}
				s = s[i+1:]
				i = 0
				continue
			}
		}
		i++
	}
	a = append(a, s)
	return append(alts, a)
}

// rewrite is testing's rewrite of names and patterns: white space becomes
// '_', unprintable runes are escaped.
func rewrite(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case isSpace(r):
			b = append(b, '_')
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b = append(b, q[1:len(q)-1]...)
		default:
			b = append(b, string(r)...)
		}
	}
	return string(b)
}

func isSpace(r rune) bool {
	if r < 0x2000 {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680:
			return true
		}
		return false
	}
	if r <= 0x200a {
		return true
	}
	switch r {
	case 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return false
}
