package run

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// coverMerger merges the coverage profiles of the many processes a package
// runs as: a block's count is the maximum (mode set) or the sum (count,
// atomic) over processes, as if one process had run all the tests.
type coverMerger struct {
	mu     sync.Mutex
	mode   string
	blocks map[string]*coverBlock // "file:range numStmts" -> block
	byPkg  map[string]map[string]bool
}

type coverBlock struct {
	key   string
	stmts int
	count int64
}

func newCoverMerger() *coverMerger {
	return &coverMerger{blocks: map[string]*coverBlock{}, byPkg: map[string]map[string]bool{}}
}

// add merges the profile one process of pkg wrote to path.
func (c *coverMerger) add(pkg, path string) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // the process died before writing it
		}
		return err
	}
	defer f.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byPkg[pkg] == nil {
		c.byPkg[pkg] = map[string]bool{}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if mode, ok := strings.CutPrefix(text, "mode: "); ok {
			c.mode = mode
			continue
		}
		// file:startLine.startCol,endLine.endCol numStmts count
		i := strings.LastIndexByte(text, ' ')
		if i < 0 {
			return fmt.Errorf("%s:%d: malformed coverage line %q", path, line, text)
		}
		count, err := strconv.ParseInt(text[i+1:], 10, 64)
		if err != nil {
			return fmt.Errorf("%s:%d: malformed count in %q", path, line, text)
		}
		key := text[:i]
		j := strings.LastIndexByte(key, ' ')
		stmts, err := strconv.Atoi(key[j+1:])
		if j < 0 || err != nil {
			return fmt.Errorf("%s:%d: malformed statement count in %q", path, line, text)
		}
		b := c.blocks[key]
		if b == nil {
			b = &coverBlock{key: key, stmts: stmts}
			c.blocks[key] = b
		}
		if c.mode == "set" {
			b.count = max(b.count, count)
		} else {
			b.count += count
		}
		c.byPkg[pkg][key] = true
	}
	return sc.Err()
}

// coverDir is the GOCOVERDIR of the process writing profile cover: go
// test gives each test binary one (-test.gocoverdir, and GOCOVERDIR for
// the programs a test builds with coverage and runs), whose counters the
// testing package adds to the binary's profile.
func coverDir(cover string) string { return cover + ".d" }

// percent is pkg's merged coverage figure, "80.0%" (or "[no
// statements]"), as the testing package rounds it.
func (c *coverMerger) percent(pkg string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := c.byPkg[pkg]
	if len(keys) == 0 {
		return "", false
	}
	var total, covered int
	for k := range keys {
		b := c.blocks[k]
		total += b.stmts
		if b.count > 0 {
			covered += b.stmts
		}
	}
	if total == 0 {
		return "[no statements]", true
	}
	return fmt.Sprintf("%.1f%%", 100*float64(covered)/float64(total)), true
}

// write writes the merged profile, as go test -coverprofile does.
func (c *coverMerger) write(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sb strings.Builder
	mode := c.mode
	if mode == "" {
		mode = "set"
	}
	sb.WriteString("mode: " + mode + "\n")
	keys := make([]string, 0, len(c.blocks))
	for k := range c.blocks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s %d\n", k, c.blocks[k].count)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("writing coverage profile: %w", err)
	}
	return nil
}
