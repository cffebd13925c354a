// Package nested runs tests inside a test with testing.RunTests, as
// testify's suite package does in its own tests: the inner tests fail on
// purpose, go test prints their nested --- FAIL lines, and the package
// passes because the outer test does.
package nested

import (
	"testing"
)

func TestOuter(t *testing.T) {
	inner := []testing.InternalTest{
		{Name: "TestInnerPass", F: func(t *testing.T) {}},
		{Name: "TestInnerFail", F: func(t *testing.T) { t.Error("meant to fail") }},
	}
	ok := testing.RunTests(func(pat, str string) (bool, error) { return true, nil }, inner)
	if ok {
		t.Error("the inner run should have failed")
	}
}

func TestAfter(t *testing.T) {}
