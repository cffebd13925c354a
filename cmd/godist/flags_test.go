package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/report"
	"github.com/godist/godist/run"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(t *testing.T, o *run.Config)
	}{
		{nil, func(t *testing.T, o *run.Config) {
			if !slices.Equal(o.Packages, []string{"."}) || o.ExplicitPackages || o.Dist != run.DistLoad {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{[]string{"-v", "./a/...", "b", "-run=TestX", "-count", "3", "-args", "-x", "y"}, func(t *testing.T, o *run.Config) {
			if !o.Verbose || o.Run != "TestX" || !slices.Equal(o.Packages, []string{"./a/...", "b"}) {
				t.Errorf("%+v", o)
			}
			if !slices.Equal(o.TestFlags, []string{"-test.count=3"}) || !slices.Equal(o.TestArgs, []string{"-x", "y"}) {
				t.Errorf("test flags %q, args %q", o.TestFlags, o.TestArgs)
			}
		}},
		// go test's rules (cmd/go testflag.go), checked against go test:
		// the packages are one run of arguments; after them an argument
		// goes with what follows to the test binaries, -args included.
		{[]string{"-v", "./a/...", "-count", "3", "b", "-args", "-x"}, func(t *testing.T, o *run.Config) {
			if !slices.Equal(o.Packages, []string{"./a/..."}) || !slices.Equal(o.TestArgs, []string{"b", "-args", "-x"}) {
				t.Errorf("packages %q, test args %q", o.Packages, o.TestArgs)
			}
		}},
		// A flag go test does not know goes to the binaries; without
		// =value it takes the next argument along.
		{[]string{"./a", "-update", "-golden", "dir", "-v"}, func(t *testing.T, o *run.Config) {
			if !slices.Equal(o.Packages, []string{"./a"}) || !slices.Equal(o.TestArgs, []string{"-update", "-golden", "dir"}) || !o.Verbose {
				t.Errorf("packages %q, test args %q, -v %t", o.Packages, o.TestArgs, o.Verbose)
			}
		}},
		{[]string{"-update", "./a"}, func(t *testing.T, o *run.Config) {
			if o.ExplicitPackages || !slices.Equal(o.TestArgs, []string{"-update", "./a"}) {
				t.Errorf("packages %q, test args %q", o.Packages, o.TestArgs)
			}
		}},
		{[]string{"./a", "-mode=1", "pos", "-v"}, func(t *testing.T, o *run.Config) {
			if o.Verbose || !slices.Equal(o.TestArgs, []string{"-mode=1", "pos", "-v"}) {
				t.Errorf("test args %q, -v %t", o.TestArgs, o.Verbose)
			}
		}},
		{[]string{"./a", "--", "-v"}, func(t *testing.T, o *run.Config) {
			if o.Verbose || !slices.Equal(o.TestArgs, []string{"--", "-v"}) {
				t.Errorf("test args %q", o.TestArgs)
			}
		}},
		{[]string{"-test.run", "^A$", "-test.short", "-race", "-tags=x,y", "-timeout=1m"}, func(t *testing.T, o *run.Config) {
			if o.Run != "^A$" || o.Timeout != time.Minute {
				t.Errorf("%+v", o)
			}
			if !slices.Equal(o.BuildFlags, []string{"-race=true", "-tags=x,y"}) || !slices.Contains(o.TestFlags, "-test.short=true") {
				t.Errorf("build %q test %q", o.BuildFlags, o.TestFlags)
			}
		}},
		{[]string{"-n", "8", "--tx", "socket=127.0.0.1:1", "--dist=loadpkg", "--rerun-fails", "--shard", "2/4"}, func(t *testing.T, o *run.Config) {
			if o.Workers != 8 || !o.WorkersExplicit || o.Dist != run.DistLoadPkg || o.RerunFails != 2 || o.ShardIndex != 1 || o.ShardCount != 4 {
				t.Errorf("%+v", o)
			}
		}},
		{[]string{"--rerun-fails=5", "--test-timeout", "90s", "--maxfail", "3", "-coverprofile", "c.out"}, func(t *testing.T, o *run.Config) {
			if o.RerunFails != 5 || o.TestTimeout != 90*time.Second || o.MaxFail != 3 || o.CoverProfile != "c.out" || !slices.Contains(o.BuildFlags, "-cover=true") {
				t.Errorf("%+v", o)
			}
		}},
		{[]string{"--keepalive", "3s"}, func(t *testing.T, o *run.Config) {
			if o.Keepalive != 3*time.Second {
				t.Errorf("Keepalive %v, want 3s", o.Keepalive)
			}
		}},
		{[]string{"--keepalive=0"}, func(t *testing.T, o *run.Config) {
			if o.Keepalive >= 0 {
				t.Errorf("Keepalive %v, want negative (off)", o.Keepalive)
			}
		}},
		{[]string{"--queue", "redis://127.0.0.1:6379/ci-42", "--queue-lease=10s", "./..."}, func(t *testing.T, o *run.Config) {
			if o.Queue != "redis://127.0.0.1:6379/ci-42" || o.QueueLease != 10*time.Second || !slices.Equal(o.Packages, []string{"./..."}) {
				t.Errorf("Queue %q QueueLease %v Packages %q", o.Queue, o.QueueLease, o.Packages)
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
		{[]string{"--dsit", "load"}, "did you mean --dist?"},
		{[]string{"--isloate=none"}, "did you mean --isolate?"},
		{[]string{"-run"}, "flag -run needs a value"},
		{[]string{"./a", "-C", "dir"}, `invalid value "dir" for flag -C: -C flag must be first flag`},
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
		{[]string{"--keepalive", "-5s"}, `--keepalive "-5s"`},
		{[]string{"--keepalive", "soon"}, "0 turns keepalives off"},
		{[]string{"--keepalive=1ms"}, `--keepalive "1ms"`},
		{[]string{"-n", "0"}, "nothing to run tests on"},
		{[]string{"--queue"}, "flag --queue needs a value"},
		{[]string{"--queue-lease", "5s"}, "--queue-lease needs --queue"},
		{[]string{"--queue", "redis://h/r", "--queue-lease", "10ms"}, "a second or more"},
		{[]string{"--queue", "redis://h/r", "--shard", "1/2"}, "--queue does not combine with --shard"},
		{[]string{"--queue", "redis://h/r", "--tx", "popen"}, "--queue does not combine with --tx"},
		{[]string{"--queue", "redis://h/r", "--rerun-fails"}, "--queue does not combine with --rerun-fails"},
		{[]string{"--queue", "redis://h/r", "-failfast"}, "--queue does not combine with -failfast"},
		{[]string{"--queue", "redis://h/r", "-coverprofile", "c.out"}, "--queue does not combine with -coverprofile"},
		{[]string{"--queue", "redis://h/r", "--dist", "each"}, "--queue does not combine with --dist each"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(tc.args)
			var uerr *report.UsageError
			if !errors.As(err, &uerr) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a usage error mentioning %q", err, tc.want)
			}
		})
	}
}
