package fuzz

import (
	"bytes"
	"testing"
)

func FuzzX(f *testing.F) {
	f.Add([]byte("abc"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.Equal(Reverse(Reverse(b)), b) {
			t.Errorf("double reverse of %q differs", b)
		}
	})
}

func TestReverse(t *testing.T) {
	if string(Reverse([]byte("ab"))) != "ba" {
		t.Fatal("bad reverse")
	}
}
