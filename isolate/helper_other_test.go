//go:build !linux

package isolate

func helperMain(role string) int { return 2 }
