package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store is a machine's cache of received bundles, shared by every worker of
// its user: each bundle in a directory named by its hash, marked complete
// by a .complete file whose time says when it was last used.
type Store struct {
	Root string
}

// DefaultStore is $XDG_CACHE_HOME/godist/bundles (os.UserCacheDir), or the
// temporary directory's godist/bundles where there is no cache directory.
func DefaultStore() Store {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return Store{Root: filepath.Join(dir, "godist", "bundles")}
}

const completeMark = ".complete"

// MaxAge is how long a bundle nobody used stays in a store; transfers that
// died half-way go after a day. Prune runs whenever a bundle is stored.
const MaxAge = 14 * 24 * time.Hour

// Dir is where the bundle with hash lives in s.
func (s Store) Dir(hash string) string { return filepath.Join(s.Root, hash) }

// Have reports whether the bundle with hash is complete in s, and marks it
// used.
func (s Store) Have(hash string) bool {
	if !validHash(hash) {
		return false
	}
	mark := filepath.Join(s.Dir(hash), completeMark)
	if _, err := os.Stat(mark); err != nil {
		return false
	}
	now := time.Now()
	os.Chtimes(mark, now, now)
	return true
}

// validHash: a hash names a directory, so it must not climb out of Root.
func validHash(h string) bool {
	if h == "" || len(h) > 128 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Receive starts receiving the bundle with hash: Add its files, then Commit.
// The files go to a temporary directory renamed into place at once, so
// workers sharing the store never see half a bundle.
func (s Store) Receive(hash string) (*Receiver, error) {
	if !validHash(hash) {
		return nil, fmt.Errorf("bundle: bad hash %q", hash)
	}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(s.Root, hash+".tmp-")
	if err != nil {
		return nil, err
	}
	return &Receiver{s: s, hash: hash, tmp: tmp}, nil
}

// Receiver is one bundle being received.
type Receiver struct {
	s    Store
	hash string
	tmp  string
}

// Add writes one file of the bundle; rel is slash-separated and must stay
// inside the bundle.
func (r *Receiver) Add(rel string, data []byte, mode fs.FileMode) error {
	p := filepath.Join(r.tmp, filepath.FromSlash(rel))
	if rel == "" || !strings.HasPrefix(p, r.tmp+string(filepath.Separator)) {
		return fmt.Errorf("bundle: bad path %q", rel)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, mode&0o777)
}

// Commit puts the bundle in place and returns its directory; another
// worker of the machine may have put the same bundle there first, which is
// as good. Commit prunes the store.
func (r *Receiver) Commit() (string, error) {
	defer os.RemoveAll(r.tmp)
	if err := os.WriteFile(filepath.Join(r.tmp, completeMark), nil, 0o644); err != nil {
		return "", err
	}
	dir := r.s.Dir(r.hash)
	if err := os.Rename(r.tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, completeMark)); serr != nil {
			return "", errors.Join(err, serr)
		}
	}
	r.s.Prune(time.Now())
	return dir, nil
}

// Abort drops what was received.
func (r *Receiver) Abort() { os.RemoveAll(r.tmp) }

// Prune removes bundles unused for MaxAge and transfers older than a day
// that never completed.
func (s Store) Prune(now time.Time) {
	ents, err := os.ReadDir(s.Root)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(s.Root, e.Name())
		if strings.Contains(e.Name(), ".tmp-") {
			if st, err := os.Stat(dir); err == nil && now.Sub(st.ModTime()) > 24*time.Hour {
				os.RemoveAll(dir)
			}
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, completeMark)); err == nil && now.Sub(st.ModTime()) > MaxAge {
			os.RemoveAll(dir)
		}
	}
}
