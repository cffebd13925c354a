// Package util exists twice (samename/one/util and samename/two/util):
// their test binaries are both util.test and must not collide.
package util

import "testing"

func TestWhich(t *testing.T) {
	t.Log("one")
}
