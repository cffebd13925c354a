package scheduler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// historyVersion is the file format version; a file with another version
// is ignored (treated as empty) rather than misread.
const historyVersion = 1

// ewmaWeight is the weight of the newest observation in the moving average.
const ewmaWeight = 0.5

// History holds test durations and process start-up costs from earlier
// runs, per package import path. It is safe for concurrent use. Several
// godist processes may share one file: Save merges under a lock file and
// replaces the file atomically, so the file is never torn; for a package
// both runs updated, the last Save wins.
type History struct {
	path string

	mu    sync.Mutex
	pkgs  map[string]*PackageHistory
	dirty map[string]bool
}

// PackageHistory is what is known about one package.
type PackageHistory struct {
	// Startup is the time from process start to the first test starting
	// (init, TestMain's setup), per process.
	Startup Stat                    `json:"startup"`
	Tests   map[string]*TestHistory `json:"tests,omitempty"`
	Updated time.Time               `json:"updated"`
	// Whole, when set, says the package runs as go test runs it: as one
	// process with nothing of itself beside it (see MarkWhole).
	Whole *WholeMark `json:"whole,omitempty"`
}

// WholeMark records why a package runs whole, and for how long still.
type WholeMark struct {
	Since time.Time `json:"since"`
	// Tests failed beside other processes of the package and passed as go
	// test runs them.
	Tests []string `json:"tests"`
	// CleanRuns counts the passing whole runs since; at WholeCleanRuns the
	// mark goes, and the next run splits the package again to see.
	CleanRuns int `json:"clean_runs"`
}

// WholeCleanRuns is how many passing whole runs a WholeMark lasts.
const WholeCleanRuns = 10

// MarkWhole marks package pkg to run whole from now on: tests failed
// beside other processes of it and passed as go test runs them.
func (h *History) MarkWhole(pkg string, tests []string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.pkgs[pkg]
	if ph == nil {
		ph = &PackageHistory{Tests: map[string]*TestHistory{}}
		h.pkgs[pkg] = ph
	}
	ph.Whole = &WholeMark{Since: now, Tests: tests}
	h.dirty[pkg] = true
}

// Whole reports whether package pkg runs whole (MarkWhole).
func (h *History) Whole(pkg string) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.pkgs[pkg]
	return ph != nil && ph.Whole != nil
}

// NoteWholeRun counts one whole run of a marked package that passed; the
// WholeCleanRuns-th lifts the mark.
func (h *History) NoteWholeRun(pkg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.pkgs[pkg]
	if ph == nil || ph.Whole == nil {
		return
	}
	ph.Whole.CleanRuns++
	if ph.Whole.CleanRuns >= WholeCleanRuns {
		ph.Whole = nil
	}
	h.dirty[pkg] = true
}

// TestHistory is what is known about one test and, for later splitting
// below the top level, its subtests (keyed by their name at that level).
type TestHistory struct {
	Stat
	Subtests map[string]*TestHistory `json:"sub,omitempty"`
	// Order lists the subtests in the order they first ran. A run split
	// below the top level reports its parts one after the other, so later
	// runs only add names they have not seen: the order comes from the
	// first, whole run.
	Order []string `json:"order,omitempty"`
}

// Stat is a duration observed N times: the last value and an exponentially
// weighted moving average.
type Stat struct {
	EWMA time.Duration `json:"ewma"`
	Last time.Duration `json:"last"`
	N    int           `json:"n"`
}

func (s *Stat) add(d time.Duration) {
	if s.N == 0 {
		s.EWMA = d
	} else {
		s.EWMA = time.Duration(ewmaWeight*float64(d) + (1-ewmaWeight)*float64(s.EWMA))
	}
	s.Last = d
	s.N++
}

type historyFile struct {
	Version  int                        `json:"version"`
	Packages map[string]*PackageHistory `json:"packages"`
}

// DefaultHistoryPath is os.UserCacheDir()/godist/history.json.
func DefaultHistoryPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("scheduler: history path: %w", err)
	}
	return filepath.Join(dir, "godist", "history.json"), nil
}

// NewHistory returns an empty history that Save writes to path ("" = never
// saved).
func NewHistory(path string) *History {
	return &History{path: path, pkgs: map[string]*PackageHistory{}, dirty: map[string]bool{}}
}

// LoadHistory reads the history at path. A missing file, or one of another
// format version, gives an empty history. A file that godist cannot use —
// not a regular file (a FIFO would block the run), not JSON, or with
// entries that make no sense (null, negative) — gives a *BadHistoryError
// along with what could be kept of it: the caller reports it, may set the
// file aside (SetAside), and goes on.
func LoadHistory(path string) (*History, error) {
	h := NewHistory(path)
	f, err := readHistoryFile(path)
	if f != nil {
		h.pkgs = f.Packages
	}
	return h, err
}

// BadHistoryError is a history file that could not be used as it is.
type BadHistoryError struct {
	Path string
	Err  error
	// Partial: some entries were dropped and the rest was kept.
	Partial bool
}

func (e *BadHistoryError) Error() string {
	return fmt.Sprintf("history %s: %v", e.Path, e.Err)
}

func (e *BadHistoryError) Unwrap() error { return e.Err }

// SetAside renames the bad history file to a name of its own next to it
// (PATH.bad-TIMESTAMP), so that the next Save starts a good one and the
// bad one stays for a look. It returns the new name.
func (e *BadHistoryError) SetAside() (string, error) {
	aside := fmt.Sprintf("%s.bad-%s", e.Path, time.Now().UTC().Format("20060102T150405"))
	if err := os.Rename(e.Path, aside); err != nil {
		return "", fmt.Errorf("scheduler: set aside history: %w", err)
	}
	return aside, nil
}

func readHistoryFile(path string) (*historyFile, error) {
	f := &historyFile{Version: historyVersion, Packages: map[string]*PackageHistory{}}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("scheduler: load history: %w", err)
	}
	if !st.Mode().IsRegular() {
		return f, &BadHistoryError{Path: path, Err: fmt.Errorf("not a regular file but %s", fileKind(st.Mode()))}
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("scheduler: load history: %w", err)
	}
	var disk historyFile
	if err := json.Unmarshal(b, &disk); err != nil {
		return f, &BadHistoryError{Path: path, Err: err}
	}
	if disk.Version != historyVersion || disk.Packages == nil {
		return f, nil
	}
	if bad := disk.sanitize(); len(bad) > 0 {
		more := ""
		if len(bad) > 5 {
			more = fmt.Sprintf(" and %d more", len(bad)-5)
			bad = bad[:5]
		}
		return &disk, &BadHistoryError{Path: path, Partial: true,
			Err: fmt.Errorf("dropped bad entries: %s%s", strings.Join(bad, ", "), more)}
	}
	return &disk, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// sanitize drops the entries of f that would mislead or crash a run —
// null packages, tests and subtests, negative durations and counts — and
// names them.
func (f *historyFile) sanitize() (bad []string) {
	for _, pkg := range slices.Sorted(maps.Keys(f.Packages)) {
		ph := f.Packages[pkg]
		if ph == nil {
			delete(f.Packages, pkg)
			bad = append(bad, pkg+": null")
			continue
		}
		if !ph.Startup.valid() {
			ph.Startup = Stat{}
			bad = append(bad, pkg+": startup")
		}
		if ph.Whole != nil && ph.Whole.CleanRuns < 0 {
			ph.Whole = nil
			bad = append(bad, pkg+": whole")
		}
		bad = append(bad, sanitizeTests(pkg+".", ph.Tests)...)
	}
	return bad
}

func sanitizeTests(prefix string, tests map[string]*TestHistory) (bad []string) {
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		th := tests[name]
		if th == nil || !th.valid() {
			delete(tests, name)
			bad = append(bad, prefix+name)
			continue
		}
		bad = append(bad, sanitizeTests(prefix+name+"/", th.Subtests)...)
	}
	return bad
}

func (s Stat) valid() bool { return s.N >= 0 && s.EWMA >= 0 && s.Last >= 0 }

// TestResult is one finished test as the collector saw it: its full name
// ("TestA" or "TestA/sub/x") and Elapsed from its pass/fail/skip event.
type TestResult struct {
	Name    string
	Elapsed time.Duration
}

// ProcessResult is what one test process (one unit) taught us.
type ProcessResult struct {
	// Startup is the time from the process start to its first test's run
	// event; 0 when unknown (e.g. no test ran).
	Startup time.Duration
	Tests   []TestResult
}

// Record adds what one process of package pkg did. Results for the same
// top-level name in one process (a name defined in both the package and its
// _test package runs twice) add up.
func (h *History) Record(pkg string, r ProcessResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.pkgs[pkg]
	if ph == nil {
		ph = &PackageHistory{}
		h.pkgs[pkg] = ph
	}
	if ph.Tests == nil {
		ph.Tests = map[string]*TestHistory{}
	}
	if r.Startup > 0 {
		ph.Startup.add(r.Startup)
	}
	// Sum per full name first so duplicates count once, with their total.
	sums := map[string]time.Duration{}
	var order []string
	for _, t := range r.Tests {
		if _, ok := sums[t.Name]; !ok {
			order = append(order, t.Name)
		}
		sums[t.Name] += t.Elapsed
	}
	for _, name := range order {
		levels := strings.Split(name, "/")
		m := ph.Tests
		var th, parent *TestHistory
		for i, l := range levels {
			parent = th
			th = m[l]
			if th == nil {
				th = &TestHistory{}
				m[l] = th
			}
			if parent != nil && !slices.Contains(parent.Order, l) {
				parent.Order = append(parent.Order, l)
			}
			if i < len(levels)-1 {
				if th.Subtests == nil {
					th.Subtests = map[string]*TestHistory{}
				}
				m = th.Subtests
			}
		}
		th.add(sums[name])
	}
	ph.Updated = time.Now().UTC()
	h.dirty[pkg] = true
}

// Estimate is the expected duration of top-level test name of pkg.
func (h *History) Estimate(pkg, name string) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ph := h.pkgs[pkg]; ph != nil {
		if th := ph.Tests[name]; th != nil && th.N > 0 {
			return th.EWMA, true
		}
	}
	return 0, false
}

// Startup is the expected process start-up cost of pkg's test binary.
func (h *History) Startup(pkg string) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ph := h.pkgs[pkg]; ph != nil && ph.Startup.N > 0 {
		return ph.Startup.EWMA, true
	}
	return 0, false
}

// median of pkg's known top-level test estimates.
func (h *History) median(pkg string) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.pkgs[pkg]
	if ph == nil {
		return 0, false
	}
	var ds []time.Duration
	for _, th := range ph.Tests {
		if th.N > 0 {
			ds = append(ds, th.EWMA)
		}
	}
	if len(ds) == 0 {
		return 0, false
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], true
}

// Package returns a deep copy of what is known about pkg (nil if nothing).
func (h *History) Package(pkg string) *PackageHistory {
	h.mu.Lock()
	defer h.mu.Unlock()
	ph := h.pkgs[pkg]
	if ph == nil {
		return nil
	}
	b, err := json.Marshal(ph)
	if err != nil {
		panic("scheduler: marshal history: " + err.Error())
	}
	var c PackageHistory
	if err := json.Unmarshal(b, &c); err != nil {
		panic("scheduler: unmarshal history: " + err.Error())
	}
	return &c
}

// lockWait bounds how long Save waits for another process's lock, and
// lockStale is the age after which a lock file is taken to be left over
// from a crashed process.
const (
	lockWait  = 10 * time.Second
	lockStale = 30 * time.Second
)

// ErrHistoryLocked is returned by Save when the lock stays taken.
var ErrHistoryLocked = errors.New("history file locked")

// Save writes the packages recorded since loading into the file, merged
// with what other processes saved meanwhile: under a lock file it re-reads
// the file, replaces the packages this History updated, writes a temporary
// file and renames it over the old one.
func (h *History) Save() error {
	if h.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("scheduler: save history: %w", err)
	}
	unlock, err := lockFile(h.path + ".lock")
	if err != nil {
		return fmt.Errorf("scheduler: save history: %w", err)
	}
	defer unlock()

	// A file that cannot be read gives what could be kept of it (nothing,
	// or its good entries): start from that rather than never save again.
	disk, _ := readHistoryFile(h.path)
	// Hold h.mu to the end so that no Record slips between writing and
	// clearing the dirty set.
	h.mu.Lock()
	defer h.mu.Unlock()
	for pkg := range h.dirty {
		disk.Packages[pkg] = h.pkgs[pkg]
	}
	b, err := json.Marshal(disk)
	if err != nil {
		return fmt.Errorf("scheduler: save history: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".history-*.tmp")
	if err != nil {
		return fmt.Errorf("scheduler: save history: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("scheduler: save history: %w", err)
	}
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("scheduler: save history: %w", err)
	}
	for pkg, ph := range disk.Packages {
		if !h.dirty[pkg] {
			h.pkgs[pkg] = ph // learn what others saved
		}
	}
	clear(h.dirty)
	return nil
}

// lockFile takes an exclusive lock by creating path with O_EXCL, which
// works on every OS and file system godist cares about.
func lockFile(path string) (unlock func(), err error) {
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > lockStale {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s", ErrHistoryLocked, path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
