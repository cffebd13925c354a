package testcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrMiss is wrapped by every error Get returns for a result it does not
// have or must not use; the message says why.
var ErrMiss = errors.New("testcache: miss")

// ErrNotPassed is returned by Put for an event stream whose package did
// not pass: only passing package runs are cached.
var ErrNotPassed = errors.New("testcache: package did not pass")

// DefaultMaxBytes is Trim's bound when Options.MaxBytes is zero.
const DefaultMaxBytes = 2 << 30

// usedInterval is how stale a file's mtime must be before Get refreshes
// it: the mtime is the last use, for Trim, and rewriting it on every hit
// would make every cached run write to (shared) storage. go's cache uses
// the same hour.
const usedInterval = time.Hour

// tempPrefix starts the names of files being written; Trim removes those
// left behind by a writer that died.
const tempPrefix = ".tmp-"

// Options configure a Cache.
type Options struct {
	// Portable hashes inputs so that another machine with the same
	// checkout computes the same hash: file contents instead of mtimes,
	// paths relative to the module root. Off, the hash is go test's own
	// (stat information), right for one machine's cache. A directory
	// shared between machines wants every user to agree on it.
	Portable bool
	// MaxBytes bounds the directory's size for Trim; 0 is DefaultMaxBytes.
	MaxBytes int64
}

// Cache is a test result cache in one directory, which any number of
// processes on any number of machines may use at once: every file is
// written to a temporary name and renamed into place, so a reader sees a
// whole file or none, and of two concurrent writers of one entry the
// last rename wins (both wrote a valid result). A Cache holds no open
// files and starts no goroutines; its methods are safe for concurrent use.
type Cache struct {
	dir  string // the layout directory, DIR/v1
	root string // DIR
	opts Options
}

// Entry is one cached passing package run: what a replay needs.
type Entry struct {
	// Events is the package's go test -json event stream (JSON lines) as
	// the run produced it; Replay turns it into go test's cached form.
	Events []byte
	// CoverProfile is the package's -coverprofile fragment, nil if the run
	// wrote none.
	CoverProfile []byte
	// Coverage is the coverage part of the summary line ("coverage: 80.0%
	// of statements"), "" without -cover.
	Coverage string
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// Created is when Put stored the entry.
	Created time.Time
}

// DefaultDir is where a controller keeps its cache unless told: the
// directory $GODIST_CACHE names, else godist/testcache under
// os.UserCacheDir() ($XDG_CACHE_HOME or ~/.cache on Linux).
func DefaultDir() (string, error) {
	if d := os.Getenv("GODIST_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("testcache: default dir: %w", err)
	}
	return filepath.Join(d, "godist", "testcache"), nil
}

// Open returns the cache in dir, creating the directory if needed.
func Open(dir string, opts Options) (*Cache, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	c := &Cache{dir: filepath.Join(dir, "v1"), root: dir, opts: opts}
	if err := os.MkdirAll(c.dir, 0o777); err != nil {
		return nil, fmt.Errorf("testcache: open: %w", err)
	}
	return c, nil
}

// Dir returns the directory the cache was opened in.
func (c *Cache) Dir() string { return c.root }

func (c *Cache) inputsPath(key Key) string {
	s := key.String()
	return filepath.Join(c.dir, "inputs", s[:2], s)
}

func (c *Cache) resultPath(key Key, inputs ID) string {
	h := sha256.New()
	fmt.Fprintf(h, "result %x inputs %x", key, inputs)
	s := sum(h).String()
	return filepath.Join(c.dir, "results", s[:2], s)
}

// Put stores a passing package run under each of keys (go test stores
// one under the link-level and one under the binary-content key). log
// holds the inputs its processes consulted, pkg where they ran; the
// inputs are hashed now, so a file younger than ModTimeCutoff makes the
// run uncacheable (ErrFileTooNew). Put sets e.Created.
func (c *Cache) Put(pkg Package, log *Log, e *Entry, keys ...Key) error {
	if pkg.Root == "" {
		return fmt.Errorf("testcache: put %s: %w", pkg.ImportPath, ErrNoRoot)
	}
	if !passed(e.Events) {
		return fmt.Errorf("testcache: put %s: %w", pkg.ImportPath, ErrNotPassed)
	}
	rec := record(log, pkg)
	ops, err := parseRecord(rec, pkg.Root)
	if err != nil {
		panic("testcache: own inputs list unreadable: " + err.Error())
	}
	inputs, err := hashInputs(ops, pkg, c.opts.Portable)
	if err != nil {
		return fmt.Errorf("testcache: put %s: %w", pkg.ImportPath, err)
	}
	e.Created = time.Now()
	data := encodeEntry(e)
	for _, key := range keys {
		if key == (Key{}) {
			continue // an unknown binary identity: nothing to store under
		}
		// The result first: a reader that finds the inputs list finds
		// the result it leads to (unless a concurrent Clean took it).
		if err := c.write(c.resultPath(key, inputs), data); err != nil {
			return fmt.Errorf("testcache: put %s: %w", pkg.ImportPath, err)
		}
		if err := c.write(c.inputsPath(key), rec); err != nil {
			return fmt.Errorf("testcache: put %s: %w", pkg.ImportPath, err)
		}
	}
	return nil
}

// Get returns the result stored under key if the inputs it recorded are
// unchanged: the inputs list is read, every input hashed as it is now
// (files under pkg.Root and the environment pkg.Env), and the result for
// that hash looked up — go test's two-level lookup. needCoverProfile
// says the run asks for -coverprofile: an entry stored without a profile
// is then a miss, as in go test. Every miss wraps ErrMiss; an input file
// younger than ModTimeCutoff also wraps ErrFileTooNew.
func (c *Cache) Get(key Key, pkg Package, needCoverProfile bool) (*Entry, error) {
	if pkg.Root == "" {
		return nil, fmt.Errorf("%w: %s: %w", ErrMiss, pkg.ImportPath, ErrNoRoot)
	}
	if key == (Key{}) {
		return nil, fmt.Errorf("%w: %s: no binary identity", ErrMiss, pkg.ImportPath)
	}
	ipath := c.inputsPath(key)
	rec, err := os.ReadFile(ipath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: no inputs recorded for key %.12s", ErrMiss, pkg.ImportPath, key)
	}
	ops, err := parseRecord(rec, pkg.Root)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMiss, pkg.ImportPath, err)
	}
	inputs, err := hashInputs(ops, pkg, c.opts.Portable)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMiss, pkg.ImportPath, err)
	}
	rpath := c.resultPath(key, inputs)
	data, err := os.ReadFile(rpath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: inputs changed (no result for them)", ErrMiss, pkg.ImportPath)
	}
	e, err := decodeEntry(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMiss, pkg.ImportPath, err)
	}
	if e.Created.Before(c.expired()) {
		return nil, fmt.Errorf("%w: %s: expired by clean", ErrMiss, pkg.ImportPath)
	}
	if needCoverProfile && e.CoverProfile == nil {
		return nil, fmt.Errorf("%w: %s: no cover profile cached", ErrMiss, pkg.ImportPath)
	}
	touch(ipath)
	touch(rpath)
	return e, nil
}

// touch records a use for Trim, at most once per usedInterval.
func touch(path string) {
	if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > usedInterval {
		now := time.Now()
		os.Chtimes(path, now, now) // best effort: a read-only cache still serves
	}
}

// write puts data at path atomically: a temporary file in the same
// directory, renamed over path.
func (c *Cache) write(path string, data []byte) error {
	for attempt := 0; ; attempt++ {
		err := writeOnce(path, data)
		// A concurrent Clean may have removed the directory between
		// MkdirAll and the rename: redo it, a few times.
		if err == nil || attempt == 5 || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
}

func writeOnce(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	// CreateTemp makes the file private; others sharing the directory
	// must read it. (On the open file: its name may be gone already.)
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// passed reports whether an event stream ends with its package passing.
func passed(events []byte) bool {
	events = bytes.TrimRight(events, "\n")
	for len(events) > 0 {
		i := bytes.LastIndexByte(events, '\n')
		line := events[i+1:]
		events = events[:max(i, 0)]
		var ev struct{ Action, Test string }
		if json.Unmarshal(line, &ev) != nil {
			return false
		}
		if ev.Test == "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip") {
			return ev.Action == "pass"
		}
		if i < 0 {
			break
		}
	}
	return false
}

// An entry file: entryMagic, the header's length (8 bytes, big endian),
// the JSON header, the events, the cover profile. The header holds a
// SHA-256 of the rest, so a file torn by a storage system without atomic
// rename reads as a miss, never as a wrong result.
const entryMagic = "godist testcache entry v1\n"

type entryHeader struct {
	Coverage   string
	Elapsed    time.Duration
	Created    time.Time
	EventsLen  int
	HasProfile bool
	ProfileLen int
	SHA256     string
}

func encodeEntry(e *Entry) []byte {
	h := sha256.New()
	h.Write(e.Events)
	h.Write(e.CoverProfile)
	hdr, err := json.Marshal(entryHeader{
		Coverage: e.Coverage, Elapsed: e.Elapsed, Created: e.Created,
		EventsLen: len(e.Events), HasProfile: e.CoverProfile != nil, ProfileLen: len(e.CoverProfile),
		SHA256: hex.EncodeToString(h.Sum(nil)),
	})
	if err != nil {
		panic("testcache: encode entry header: " + err.Error())
	}
	var b bytes.Buffer
	b.Grow(len(entryMagic) + 8 + len(hdr) + len(e.Events) + len(e.CoverProfile))
	b.WriteString(entryMagic)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(hdr))))
	b.Write(hdr)
	b.Write(e.Events)
	b.Write(e.CoverProfile)
	return b.Bytes()
}

func decodeEntry(data []byte) (*Entry, error) {
	bad := errors.New("corrupt entry")
	if !bytes.HasPrefix(data, []byte(entryMagic)) || len(data) < len(entryMagic)+8 {
		return nil, bad
	}
	data = data[len(entryMagic):]
	n := binary.BigEndian.Uint64(data)
	data = data[8:]
	if n > uint64(len(data)) {
		return nil, bad
	}
	var hdr entryHeader
	if err := json.Unmarshal(data[:n], &hdr); err != nil {
		return nil, bad
	}
	body := data[n:]
	if hdr.EventsLen < 0 || hdr.ProfileLen < 0 || hdr.EventsLen+hdr.ProfileLen != len(body) {
		return nil, bad
	}
	if s := sha256.Sum256(body); hex.EncodeToString(s[:]) != hdr.SHA256 {
		return nil, bad
	}
	e := &Entry{Events: body[:hdr.EventsLen], Coverage: hdr.Coverage, Elapsed: hdr.Elapsed, Created: hdr.Created}
	if hdr.HasProfile {
		e.CoverProfile = body[hdr.EventsLen:]
	}
	return e, nil
}

// Clean expires every entry (godist clean -testcache, go clean
// -testcache's twin): it stamps the directory with the time, so entries
// stored before are misses for every user at once, as go's testexpire.txt
// does, then removes the files, best effort (a concurrent Put may keep
// its directory alive). A concurrent Put is never disturbed.
func (c *Cache) Clean() error {
	stamp := strconv.FormatInt(time.Now().UnixNano(), 10) + "\n"
	if err := c.write(c.expirePath(), []byte(stamp)); err != nil {
		return fmt.Errorf("testcache: clean: %w", err)
	}
	// Each tree is renamed away first, in one step, so a concurrent Put
	// loses at most the directory it is renaming into, and redoes it.
	for _, sub := range []string{"inputs", "results"} {
		trash := filepath.Join(c.dir, sub+".deleting-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		if os.Rename(filepath.Join(c.dir, sub), trash) == nil {
			os.RemoveAll(trash)
		}
	}
	// What an interrupted Clean left.
	old, _ := filepath.Glob(filepath.Join(c.dir, "*.deleting-*"))
	for _, o := range old {
		os.RemoveAll(o)
	}
	return nil
}

func (c *Cache) expirePath() string { return filepath.Join(c.dir, "expire.txt") }

// expired returns the time of the last Clean.
func (c *Cache) expired() time.Time {
	data, err := os.ReadFile(c.expirePath())
	if err != nil {
		return time.Time{}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// TrimStats says what Trim did.
type TrimStats struct {
	Files, Bytes          int64 // in the cache before trimming
	RemovedFiles, Removed int64 // removed: files, bytes
}

// Trim removes the least recently used files until the cache holds at
// most Options.MaxBytes (then down to three quarters of it, so that a
// cache at its bound is not trimmed on every run), and temporary files
// older than an hour (writers that died). Use is the file's mtime, which
// Get refreshes at most once an hour. Call it after a run.
func (c *Cache) Trim() (TrimStats, error) {
	type file struct {
		path  string
		size  int64
		mtime time.Time
	}
	var files []file
	var st TrimStats
	now := time.Now()
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by a concurrent Trim or Clean
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			if now.Sub(fi.ModTime()) > time.Hour && os.Remove(path) == nil {
				st.RemovedFiles++
				st.Removed += fi.Size()
			}
			return nil
		}
		st.Files++
		st.Bytes += fi.Size()
		files = append(files, file{path, fi.Size(), fi.ModTime()})
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("testcache: trim: %w", err)
	}
	if st.Bytes <= c.opts.MaxBytes {
		return st, nil
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mtime.Before(files[j].mtime) })
	total, target := st.Bytes, c.opts.MaxBytes/4*3
	for _, f := range files {
		if total <= target {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
			st.RemovedFiles++
			st.Removed += f.size
		}
	}
	return st, nil
}
