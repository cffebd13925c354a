//go:build special

package a

import "testing"

func TestTagged(t *testing.T) {}
