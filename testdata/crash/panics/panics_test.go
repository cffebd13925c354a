// Package panics: TestA passes, TestB panics, TestC would pass but never
// runs in the same process as TestB.
package panics

import "testing"

func TestA(t *testing.T) { t.Log("A runs") }

func TestB(t *testing.T) {
	t.Log("B before panic")
	panic("boom in TestB")
}

func TestC(t *testing.T) { t.Log("C runs") }
