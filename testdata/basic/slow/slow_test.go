// Package slow has 16 sequential tests that each sleep 500ms.
package slow

import (
	"testing"
	"time"
)

func TestSlow01(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow02(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow03(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow04(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow05(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow06(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow07(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow08(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow09(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow10(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow11(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow12(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow13(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow14(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow15(t *testing.T) { time.Sleep(500 * time.Millisecond) }

func TestSlow16(t *testing.T) { time.Sleep(500 * time.Millisecond) }
