// Package b passes: -failfast in another package does not fail it.
package b

import (
	"testing"
	"time"
)

func TestB1(t *testing.T) { time.Sleep(100 * time.Millisecond) }
func TestB2(t *testing.T) { time.Sleep(100 * time.Millisecond) }
func TestB3(t *testing.T) { time.Sleep(100 * time.Millisecond) }
