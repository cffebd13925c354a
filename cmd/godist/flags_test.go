package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/gateway"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(t *testing.T, o *options)
	}{
		{nil, func(t *testing.T, o *options) {
			if !slices.Equal(o.packages, []string{"."}) || o.explicitPackages || o.dist != distLoad {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{[]string{"-v", "./a/...", "-run=TestX", "-count", "3", "b", "-args", "-x", "y"}, func(t *testing.T, o *options) {
			if !o.verbose || o.run != "TestX" || !slices.Equal(o.packages, []string{"./a/...", "b"}) {
				t.Errorf("%+v", o)
			}
			if !slices.Equal(o.testFlags, []string{"-test.count=3"}) || !slices.Equal(o.testArgs, []string{"-x", "y"}) {
				t.Errorf("test flags %q, args %q", o.testFlags, o.testArgs)
			}
		}},
		{[]string{"-test.run", "^A$", "-test.short", "-race", "-tags=x,y", "-timeout=1m"}, func(t *testing.T, o *options) {
			if o.run != "^A$" || o.timeout != time.Minute {
				t.Errorf("%+v", o)
			}
			if !slices.Equal(o.buildFlags, []string{"-race=true", "-tags=x,y"}) || !slices.Contains(o.testFlags, "-test.short=true") {
				t.Errorf("build %q test %q", o.buildFlags, o.testFlags)
			}
		}},
		{[]string{"-n", "8", "--tx", "socket=127.0.0.1:1", "--dist=loadpkg", "--rerun-fails", "--shard", "2/4"}, func(t *testing.T, o *options) {
			if o.workers != 8 || !o.workersExplicit || o.dist != distLoadPkg || o.rerunFails != 2 || o.shardIndex != 1 || o.shardCount != 4 {
				t.Errorf("%+v", o)
			}
		}},
		{[]string{"--rerun-fails=5", "--test-timeout", "90s", "--maxfail", "3", "-coverprofile", "c.out"}, func(t *testing.T, o *options) {
			if o.rerunFails != 5 || o.testTimeout != 90*time.Second || o.maxFail != 3 || o.coverProfile != "c.out" || !slices.Contains(o.buildFlags, "-cover=true") {
				t.Errorf("%+v", o)
			}
		}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parseArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bench=."}, "flag -bench is not supported"},
		{[]string{"-fuzz", "FuzzX"}, "flag -fuzz is not supported"},
		{[]string{"-cpuprofile", "x"}, "profiles"},
		{[]string{"-nope"}, "unknown flag -nope"},
		{[]string{"-run"}, "flag -run needs a value"},
		{[]string{"-count", "x"}, `invalid value "x" for -count`},
		{[]string{"-timeout", "soon"}, `invalid value "soon" for -timeout`},
		{[]string{"-v=maybe"}, `invalid boolean value "maybe" for -v`},
		{[]string{"-n", "-1"}, `-n "-1"`},
		{[]string{"--dist", "each", "--shard", "1/2"}, "does not combine with --shard"},
		{[]string{"--tx", "popen//colour=red"}, "colour"},
		{[]string{"--shard", "0/2"}, "--shard"},
		{[]string{"--format", "fancy"}, "testname"},
		{[]string{"--format", "dots", "-json"}, "--jsonfile"},
		{[]string{"--test-timeout", "0s"}, "positive duration"},
		{[]string{"-n", "0"}, "nothing to run tests on"},
		{[]string{"--", "x"}, "-args"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(tc.args)
			var uerr *usageError
			if !errors.As(err, &uerr) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a usage error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStartTimeout(t *testing.T) {
	for _, tc := range []struct {
		specs []string
		want  time.Duration
	}{
		{[]string{"popen"}, workerStartTimeout},
		{[]string{"2*popen", "socket=127.0.0.1:1"}, workerStartTimeout},
		{[]string{"popen", "ssh=me@127.0.0.1:2222"}, sshStartTimeout},
	} {
		specs, err := gateway.ParseSpecs(tc.specs)
		if err != nil {
			t.Fatal(err)
		}
		if got := startTimeout(specs); got != tc.want {
			t.Errorf("%q: start timeout %v, want %v", tc.specs, got, tc.want)
		}
	}
}
