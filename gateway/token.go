package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The shared token of socket gateways. Whoever holds it runs any code as
// the server's user, and one recorded handshake lets an eavesdropper test
// guesses offline at the speed of HMAC-SHA256, so a token must carry at
// least 128 bits of entropy: 16 random bytes or more, e.g. `(umask 077;
// head -c 32 /dev/urandom | base64 > token)`. `godist socketserver`
// without a token makes one like that in DefaultTokenFile.

// TokenEnv is the environment variable holding the shared token when no
// token file is given (server: --token-file; client: //token-file=).
const TokenEnv = "GODIST_TOKEN"

// TokenFileEnv names a token file when no //token-file= or --token-file
// is given; it comes before $GODIST_TOKEN.
const TokenFileEnv = "GODIST_TOKEN_FILE"

// MinTokenBits is the entropy a token must have, as far as checkToken can
// estimate it.
const MinTokenBits = 128

// ErrWeakToken is wrapped by the error for a token refused as guessable.
var ErrWeakToken = errors.New("token too weak")

// ErrTokenFileMode is wrapped by ReadTokenFile's error for a token file
// that users other than its owner may access.
var ErrTokenFileMode = errors.New("other users can access it")

const tokenHint = "make one with: (umask 077; head -c 32 /dev/urandom | base64 > FILE)"

// DefaultTokenFile is where `godist socketserver` keeps the token it made
// and where clients look last: godist/socketserver.token in the user's
// configuration directory (os.UserConfigDir: $XDG_CONFIG_HOME or
// ~/.config on Linux), readable only by the user.
func DefaultTokenFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return filepath.Join(dir, "godist", "socketserver.token"), nil
}

// EnsureTokenFile reads the token in path, first creating the file (mode
// 0600, its directory 0700) with a new random 256-bit token if it does not
// exist; created says it did.
func EnsureTokenFile(path string) (tok []byte, created bool, err error) {
	tok, err = ReadTokenFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return tok, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("token: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	text := base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // made meanwhile by another server
		tok, err := ReadTokenFile(path)
		return tok, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("token: %w", err)
	}
	_, err = f.WriteString(text + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("token: %w", err)
	}
	return []byte(text), true, nil
}

// ReadTokenFile reads a shared token: the file's content without
// surrounding white space, refused if guessable (see checkToken). Like
// ssh with a private key, it refuses a regular file that other users may
// read or write (an error wrapping ErrTokenFileMode): whoever reads the
// token owns the workers' accounts.
func ReadTokenFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	defer f.Close()
	// The opened file's mode, not the path's: what is read is what is checked.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if err := checkTokenMode(path, st.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return checkToken(bytes.TrimSpace(b), fmt.Sprintf("token file %q", path))
}

// LoadToken finds the token of a client or server: the file if not
// empty, else the file named by $GODIST_TOKEN_FILE, else $GODIST_TOKEN;
// nil, "", nil when none gives one. from says where it came from.
func LoadToken(file string) (tok []byte, from string, err error) {
	if file == "" {
		file = os.Getenv(TokenFileEnv)
	}
	if file != "" {
		tok, err := ReadTokenFile(file)
		return tok, file, err
	}
	v := strings.TrimSpace(os.Getenv(TokenEnv))
	if v == "" {
		return nil, "", nil
	}
	tok, err = checkToken([]byte(v), "$"+TokenEnv)
	return tok, "$" + TokenEnv, err
}

// clientToken is LoadToken for a socket= gateway, falling back to
// DefaultTokenFile when it exists: a server of the same user on this
// machine needs no configuration.
func clientToken(file string) ([]byte, error) {
	tok, from, err := LoadToken(file)
	if err != nil || from != "" {
		return tok, err
	}
	def, err := DefaultTokenFile()
	if err != nil {
		return nil, nil
	}
	tok, err = ReadTokenFile(def)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return tok, err
}

// checkTokenMode refuses a regular file with group or other permission
// bits on unix (pipes such as <(cmd) and devices are not checked; Windows
// has no such bits).
func checkTokenMode(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" || !mode.IsRegular() || mode.Perm()&0o077 == 0 {
		return nil
	}
	return fmt.Errorf("token: file %q has permissions %#o: %w; run chmod 600 %s", path, mode.Perm(), ErrTokenFileMode, shellQuote(path))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+@%:=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkToken refuses tokens that are obviously guessable. It cannot tell
// a random token from a chosen one; it estimates the entropy as if each
// byte were drawn at random from the character classes the token uses
// (digits, lower case, upper case, other printable, other bytes), and
// requires MinTokenBits of that, at least 10 different bytes, and no
// repeated pattern (abcabc...).
func checkToken(tok []byte, from string) ([]byte, error) {
	weak := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("token: %s: %w: %s; a token needs at least %d bits of entropy (16 random bytes or more); %s", from, ErrWeakToken, why, MinTokenBits, tokenHint)
	}
	if len(tok) == 0 {
		return weak("it is empty")
	}
	var classes [5]bool
	distinct := map[byte]bool{}
	for _, b := range tok {
		distinct[b] = true
		switch {
		case b >= '0' && b <= '9':
			classes[0] = true
		case b >= 'a' && b <= 'z':
			classes[1] = true
		case b >= 'A' && b <= 'Z':
			classes[2] = true
		case b >= ' ' && b < 0x7f:
			classes[3] = true
		default:
			classes[4] = true
		}
	}
	size := 0
	for i, n := range [5]int{10, 26, 26, 33, 162} {
		if classes[i] {
			size += n
		}
	}
	if bits := float64(len(tok)) * math.Log2(float64(size)); bits < MinTokenBits {
		return weak(fmt.Sprintf("%d bytes of %d possible values give at most %.0f bits", len(tok), size, bits))
	}
	if len(distinct) < 10 {
		return weak(fmt.Sprintf("it has only %d different bytes", len(distinct)))
	}
	for p := 1; p <= len(tok)/2 && len(tok) <= 4096; p++ {
		if bytes.Equal(tok[p:], tok[:len(tok)-p]) {
			return weak(fmt.Sprintf("it repeats %q", tok[:min(p, 16)]))
		}
	}
	return tok, nil
}
