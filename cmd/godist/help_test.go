package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestVersionFromBuildInfo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := command([]string{"version"}, nil, &out, &errb); code != 0 {
		t.Fatalf("godist version: status %d, stderr %q", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{"godist ", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(got, want) {
			t.Errorf("godist version = %q, want it to hold %q", got, want)
		}
	}
	if strings.Contains(got, "0.1.0-dev") {
		t.Errorf("godist version = %q: a constant, not the build's version", got)
	}
}

func TestHelpCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout
	}{
		{[]string{"help"}, 0, "usage: godist [godist flags]"},
		{[]string{"help", "merge"}, 0, "usage: godist merge"},
		{[]string{"merge", "-h"}, 0, "usage: godist merge"},
		{[]string{"merge", "--help"}, 0, "-junitfile"},
		{[]string{"help", "socketserver"}, 0, "-listen"},
		{[]string{"socketserver", "-h"}, 0, "-token-file"},
		{[]string{"help", "version"}, 0, "usage: godist version"},
		{[]string{"help", "nosuch"}, 2, ""},
		{[]string{"help", "merge", "exec"}, 2, ""},
	} {
		var out, errb bytes.Buffer
		code := command(tc.args, nil, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("godist %v: status %d, stdout %q; want %d and %q", tc.args, code, out.String(), tc.code, tc.out)
		}
		if tc.code == 0 && strings.Contains(out.String(), "godist flags:") && tc.args[0] != "help" || (len(tc.args) > 1 && tc.code == 0 && strings.Contains(out.String(), "godist flags:")) {
			t.Errorf("godist %v repeats the top-level help", tc.args)
		}
	}
}
