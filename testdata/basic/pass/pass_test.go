// Package pass has only passing tests; some log output that go test hides
// unless -v is given.
package pass

import "testing"

func TestOne(t *testing.T) {
	t.Log("log from TestOne")
}

func TestTwo(t *testing.T) {
	t.Logf("two: %d", 2)
	t.Run("sub", func(t *testing.T) {
		t.Log("log from a passing subtest")
	})
}

func TestThree(t *testing.T) {}

func TestHTML(t *testing.T) {
	t.Log("<b>tags</b> & ampersands")
}

func TestAttr(t *testing.T) {
	t.Attr("owner", "report")
	t.Log("after attr")
}
