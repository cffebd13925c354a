// Package alwaysfail has a test that fails however it runs, beside one
// that passes: it must be reported failed exactly once.
package alwaysfail

import "testing"

func TestAlwaysFails(t *testing.T) { t.Error("fails however it runs") }

func TestPasses(t *testing.T) {}
