//go:build !windows

package isolate

var tempDirVars = []string{"TMPDIR"}

func envNameEqual(a, b string) bool { return a == b }
