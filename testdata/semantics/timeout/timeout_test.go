// Package timeout's tests take 400ms each: under -timeout 1s go test's
// binary panics in the third and never runs the fourth.
package timeout

import (
	"testing"
	"time"
)

func hold() { time.Sleep(400 * time.Millisecond) }

func TestA(t *testing.T) { hold() }
func TestB(t *testing.T) { hold() }
func TestC(t *testing.T) { hold() }
func TestD(t *testing.T) { hold() }
func TestE(t *testing.T) { hold() }
func TestF(t *testing.T) { hold() }
