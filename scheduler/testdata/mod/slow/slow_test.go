package slow

import (
	"testing"
	"time"
)

// Eight sequential tests of 250ms each: 2s under go test.

func TestSlow0(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow1(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow2(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow3(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow4(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow5(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow6(t *testing.T) { time.Sleep(250 * time.Millisecond) }

func TestSlow7(t *testing.T) { time.Sleep(250 * time.Millisecond) }
