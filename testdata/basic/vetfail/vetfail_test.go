// Package vetfail has a test that would pass, but go vet (which go test
// runs before testing) reports a printf mistake, so go test fails the
// package as "[build failed]" without running it.
package vetfail

import (
	"fmt"
	"testing"
)

func TestVet(t *testing.T) {
	s := fmt.Sprintf("%d", "not a number")
	t.Log(s)
}
