package buildfail

import "testing"

func TestBroken(t *testing.T) {
	var s string = undefinedThing
	t.Log(s)
}
