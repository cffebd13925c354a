package buildfail

import "testing"

func TestBroken(t *testing.T) { var x int = "nope"; _ = x }
