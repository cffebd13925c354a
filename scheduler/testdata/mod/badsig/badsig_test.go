package badsig

import "testing"

func TestBad(t *testing.T, n int) {}
