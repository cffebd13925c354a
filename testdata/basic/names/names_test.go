// Package names has tests whose names are prefixes of each other, so that
// unanchored -run patterns would select the wrong ones.
package names

import "testing"

func TestA(t *testing.T)   { t.Log("TestA") }
func TestAB(t *testing.T)  { t.Log("TestAB") }
func TestA_B(t *testing.T) { t.Log("TestA_B") }
func Test(t *testing.T)    { t.Log("Test") }
func Test_x(t *testing.T)  { t.Log("Test_x") }
