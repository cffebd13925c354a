package util

import "testing"

func TestB(t *testing.T) {}
