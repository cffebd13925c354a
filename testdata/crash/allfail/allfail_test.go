// Package allfail has eight slow tests that all fail, for -failfast and
// --maxfail: whichever batch runs first fails.
package allfail

import (
	"testing"
	"time"
)

func fail(t *testing.T) {
	time.Sleep(200 * time.Millisecond)
	t.Error("fails")
}

func TestF1(t *testing.T) { fail(t) }
func TestF2(t *testing.T) { fail(t) }
func TestF3(t *testing.T) { fail(t) }
func TestF4(t *testing.T) { fail(t) }
func TestF5(t *testing.T) { fail(t) }
func TestF6(t *testing.T) { fail(t) }
func TestF7(t *testing.T) { fail(t) }
func TestF8(t *testing.T) { fail(t) }
