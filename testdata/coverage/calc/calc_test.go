package calc

import (
	"testing"
	"time"
)

// Each test sleeps a little, so that godist spreads them over processes.
func TestA(t *testing.T) { time.Sleep(50 * time.Millisecond); A(1); A(-1) }
func TestB(t *testing.T) { time.Sleep(50 * time.Millisecond); B(2) }
func TestC(t *testing.T) { time.Sleep(50 * time.Millisecond); C(3) }
func TestD(t *testing.T) { time.Sleep(50 * time.Millisecond); D(4) }
