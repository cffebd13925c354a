package a

import "testing"

func TestB1(t *testing.T) {}

func FuzzIn(f *testing.F) {
	f.Add(1)
	f.Fuzz(func(t *testing.T, n int) {})
}
