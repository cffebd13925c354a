// Package fail has failing tests, a passing one and subtests with awkward
// names (spaces, slashes, duplicates, regexp metacharacters).
package fail

import (
	"fmt"
	"testing"
)

func TestPass(t *testing.T) {
	t.Log("passing test output, hidden without -v")
}

func TestFail(t *testing.T) {
	t.Log("first line")
	t.Error("this test fails")
	fmt.Println("printed to stdout by TestFail")
}

func TestFailMultiline(t *testing.T) {
	t.Error("line one\nline two\n\tindented line three")
}

func TestSubtests(t *testing.T) {
	t.Log("parent log")
	for _, name := range []string{"with space", "a/b", "dup", "dup", "dup", "x+y", "[1]", "ok"} {
		t.Run(name, func(t *testing.T) {
			if name == "ok" {
				t.Log("passing subtest")
				return
			}
			t.Errorf("subtest %q fails", name)
		})
	}
}

func TestNested(t *testing.T) {
	t.Run("level1", func(t *testing.T) {
		t.Run("level2", func(t *testing.T) {
			t.Fatal("deep failure")
		})
		t.Log("after level2")
	})
}

func TestFatalNoNewline(t *testing.T) {
	fmt.Print("no trailing newline")
	t.FailNow()
}
