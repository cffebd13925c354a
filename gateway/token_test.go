package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckToken: obviously guessable tokens are refused with the reason
// and how to make a good one; random ones of 128 bits and more pass.
func TestCheckToken(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	for range 200 { // random tokens of 16 bytes, as advised, always pass
		for _, tok := range []string{
			base64.StdEncoding.EncodeToString(random(16)),
			base64.RawURLEncoding.EncodeToString(random(32)),
			hex.EncodeToString(random(16)),
		} {
			if _, err := checkToken([]byte(tok), "test"); err != nil {
				t.Fatalf("random token %q refused: %v", tok, err)
			}
		}
	}
	for _, tc := range []struct{ tok, why string }{
		{"", "it is empty"},
		{"short", "5 bytes of 26 possible values give at most 24 bits"},
		{"0123456789012345678901234567890123456789", `it repeats "0123456789"`},
		{"12345678901234567890123456789012345", "35 bytes of 10 possible values"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "only 1 different bytes"},
		{"password-password-password-password", "it has only 8 different bytes"},
		{"abcdefghijkabcdefghijkabcdefghijkabcdefghijk", `it repeats "abcdefghijk"`},
		{"deadbeefdeadbeefcafe", "20 bytes of 26 possible values give at most 94 bits"},
	} {
		_, err := checkToken([]byte(tc.tok), "$GODIST_TOKEN")
		if !errors.Is(err, ErrWeakToken) || !strings.Contains(err.Error(), tc.why) ||
			!strings.Contains(err.Error(), "at least 128 bits of entropy") || !strings.Contains(err.Error(), "head -c 32 /dev/urandom | base64") {
			t.Errorf("checkToken(%q) = %v, want ErrWeakToken saying %q", tc.tok, err, tc.why)
		}
	}
}

// TestEnsureTokenFile: the server's default token is made once, 0600 in a
// 0700 directory, strong, and read back the next time.
func TestEnsureTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "godist", "socketserver.token")
	tok, created, err := EnsureTokenFile(path)
	if err != nil || !created {
		t.Fatalf("EnsureTokenFile = %q, %v, %v", tok, created, err)
	}
	if _, err := checkToken(tok, "made"); err != nil || len(tok) < 43 {
		t.Errorf("made token %q: %v", tok, err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %#o", p, st.Mode(), err, want)
		}
	}
	again, created, err := EnsureTokenFile(path)
	if err != nil || created || string(again) != string(tok) {
		t.Errorf("second EnsureTokenFile = %q, %v, %v; want the same token", again, created, err)
	}
}
