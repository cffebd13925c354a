package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/godist/godist/gateway"
	"github.com/godist/godist/report"
	"github.com/godist/godist/run"
	"github.com/godist/godist/testcache"
)

// usagef is a bad command line: exit status 2, like go test.
func usagef(format string, args ...any) error {
	return &report.UsageError{Err: fmt.Errorf(format, args...)}
}

// flagKind says what a go test flag is and where it goes.
type flagKind int

const (
	kindBuild      flagKind = iota // passed to `go test -c` (and go list where it matters)
	kindBuildBool                  // boolean build flag
	kindTest                       // passed to each test process as -test.NAME=VALUE
	kindTestBool                   // boolean test flag passed as -test.NAME=true
	kindGodist                     // interpreted by godist itself, takes a value
	kindGodistBool                 // interpreted by godist itself, boolean
)

// goFlags lists every go test flag godist honours. A flag missing here but
// present in unsupportedFlags is a clear error; anything else is unknown.
var goFlags = map[string]flagKind{
	// build flags
	"race": kindBuildBool, "msan": kindBuildBool, "asan": kindBuildBool,
	"cover": kindBuildBool, "trimpath": kindBuildBool,
	"covermode": kindBuild, "coverpkg": kindBuild, "tags": kindBuild,
	"ldflags": kindBuild, "gcflags": kindBuild, "asmflags": kindBuild,
	"mod": kindBuild, "modfile": kindBuild, "buildvcs": kindBuild,
	"pgo": kindBuild, "overlay": kindBuild,
	// test binary flags
	"run": kindTest, "skip": kindTest, "count": kindTest, "timeout": kindTest,
	"shuffle": kindTest, "parallel": kindTest, "cpu": kindTest,
	"short": kindTestBool, "failfast": kindTestBool, "fullpath": kindTestBool,
	// interpreted by the go command itself, here by godist
	"v": kindGodistBool, "json": kindGodistBool, "list": kindGodist,
	"vet": kindGodist, "coverprofile": kindGodist, "p": kindGodist,
}

// unsupportedFlags are go test flags godist refuses with a reason rather
// than silently dropping them.
var unsupportedFlags = map[string]string{
	"bench":                "benchmarks measure one machine; run them with go test",
	"benchmem":             "benchmarks measure one machine; run them with go test",
	"benchtime":            "benchmarks measure one machine; run them with go test",
	"fuzz":                 "fuzzing is a single long-running process; run it with go test",
	"fuzztime":             "fuzzing is a single long-running process; run it with go test",
	"fuzzminimizetime":     "fuzzing is a single long-running process; run it with go test",
	"cpuprofile":           "profiles of split test processes cannot be merged",
	"memprofile":           "profiles of split test processes cannot be merged",
	"memprofilerate":       "profiles of split test processes cannot be merged",
	"blockprofile":         "profiles of split test processes cannot be merged",
	"blockprofilerate":     "profiles of split test processes cannot be merged",
	"mutexprofile":         "profiles of split test processes cannot be merged",
	"mutexprofilefraction": "profiles of split test processes cannot be merged",
	"trace":                "execution traces of split test processes cannot be merged",
	"outputdir":            "profiles of split test processes cannot be merged",
	"c":                    "use go test -c to only compile",
	"o":                    "use go test -c -o to only compile",
	"exec":                 "godist runs test binaries on its own workers; use --tx",
	"artifacts":            "not supported yet",
	"n":                    "godist does not print build commands",
	"x":                    "godist does not print build commands",
	"work":                 "godist does not keep the build work directory",
	"a":                    "not supported",
	"toolexec":             "not supported",
}

// parseArgs parses godist's command line the way go test parses its own:
// flags may come before and after the package list; `-args` ends parsing.
func parseArgs(args []string) (*run.Config, error) {
	o := run.DefaultConfig()
	workersSet := false
	// go test's rules for what is a package and what goes to the test
	// binaries (cmd/go/internal/test/testflag.go): the packages are one
	// run of arguments; a flag go test does not know goes to the binaries,
	// with the argument after it when it has no =value and that argument
	// could be its value; any other argument after the packages, "--"
	// included, and all that follow it go to the binaries as they are.
	pkgsSeen, inPkgs, afterUnknown := false, false, false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		start := i
		wasAfterUnknown := afterUnknown
		afterUnknown = false
		if arg == "-args" || arg == "--args" {
			o.TestArgs = append(o.TestArgs, args[i+1:]...)
			o.GoTestArgs = append(o.GoTestArgs, args[i:]...)
			break
		}
		if arg == "--" {
			o.TestArgs = append(o.TestArgs, args[i:]...)
			o.GoTestArgs = append(o.GoTestArgs, args[i:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			if pkgsSeen && !inPkgs {
				if wasAfterUnknown {
					o.TestArgs = append(o.TestArgs, arg) // the unknown flag's value
					o.GoTestArgs = append(o.GoTestArgs, arg)
					continue
				}
				o.TestArgs = append(o.TestArgs, args[i:]...)
				o.GoTestArgs = append(o.GoTestArgs, args[i:]...)
				break
			}
			inPkgs, pkgsSeen = true, true
			o.Packages = append(o.Packages, arg)
			o.GoTestArgs = append(o.GoTestArgs, arg)
			continue
		}
		inPkgs = false
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		name = strings.TrimPrefix(name, "test.")
		// needValue returns the flag's value from "=V" or the next argument.
		needValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", usagef("godist: flag %s needs a value", arg)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "C":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			return nil, usagef("godist: invalid value %q for flag -C: -C flag must be first flag on command line", v)
		case "n", "numprocesses":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			if v == "auto" || v == "logical" {
				o.Workers = runtime.NumCPU()
			} else {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return nil, usagef("godist: -n %q: want a number of workers or \"auto\"", v)
				}
				o.Workers = n
			}
			workersSet = true
			continue
		case "tx":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			o.TxSpecs = append(o.TxSpecs, v)
			continue
		case "dist":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			switch m := run.DistMode(v); m {
			case run.DistLoad, run.DistLoadPkg, run.DistNo, run.DistEach:
				o.Dist, o.DistSet = m, true
			default:
				return nil, usagef("godist: --dist %q: want one of load, loadpkg, each, no", v)
			}
			continue
		case "isolate":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			switch m := run.IsolateMode(v); m {
			case run.IsolateAuto, run.IsolateNet, run.IsolateNone:
				o.Isolate = m
			default:
				return nil, usagef("godist: --isolate %q: want one of auto, net, none", v)
			}
			continue
		case "history":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			o.HistoryFile = v
			continue
		case "rsyncdir":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			st, err := os.Stat(v)
			if err != nil || !st.IsDir() {
				return nil, usagef("godist: --rsyncdir %q: not a directory", v)
			}
			abs, err := filepath.Abs(v)
			if err != nil {
				return nil, usagef("godist: --rsyncdir %q: %v", v, err)
			}
			o.RsyncDirs = append(o.RsyncDirs, abs)
			continue
		case "format", "jsonfile", "junitfile", "test-timeout", "keepalive", "maxfail", "max-worker-restart", "shard", "slowest", "queue", "queue-lease":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			if err := setGodist(o, name, v); err != nil {
				return nil, err
			}
			continue
		case "rerun-fails":
			o.RerunFails = 2 // gotestsum's default
			if hasValue {
				n, err := strconv.Atoi(value)
				if err != nil || n < 0 {
					return nil, usagef("godist: --rerun-fails=%q: want a number of reruns", value)
				}
				o.RerunFails = n
			}
			continue
		case "summary":
			o.Summary = true
			continue
		case "worker-attr":
			o.WorkerAttr = true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, usagef("godist: invalid boolean value %q for --worker-attr", value)
				}
				o.WorkerAttr = b
			}
			continue
		case "stats":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			o.StatsFile = v
			continue
		}
		if why, ok := unsupportedFlags[name]; ok {
			return nil, usagef("godist: flag -%s is not supported: %s", name, why)
		}
		kind, ok := goFlags[name]
		if !ok {
			if near := nearGodistFlag(name); near != "" {
				return nil, usagef("godist: unknown flag %s: did you mean --%s? (flags neither go test nor godist knows go to the test binaries, as under go test)", arg, near)
			}
			// A flag of the test binaries (-update, a golden-file flag):
			// theirs, as under go test, which reports what they reject.
			o.TestArgs = append(o.TestArgs, arg)
			o.GoTestArgs = append(o.GoTestArgs, arg)
			pkgsSeen, afterUnknown = true, !hasValue
			continue
		}
		switch kind {
		case kindBuildBool, kindTestBool, kindGodistBool:
			b := true
			if hasValue {
				var err error
				if b, err = strconv.ParseBool(value); err != nil {
					return nil, usagef("godist: invalid boolean value %q for -%s", value, name)
				}
			}
			if err := setBool(o, name, kind, b); err != nil {
				return nil, err
			}
		default:
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			if err := setValue(o, name, kind, v); err != nil {
				return nil, err
			}
		}
		o.GoTestArgs = append(o.GoTestArgs, args[start:i+1]...)
	}
	o.WorkersExplicit = workersSet
	if o.Dist == run.DistEach && o.ShardCount > 1 {
		return nil, usagef("godist: --dist each runs everything everywhere; it does not combine with --shard")
	}
	if err := checkQueue(o); err != nil {
		return nil, err
	}
	if _, err := gateway.ParseSpecs(o.TxSpecs); err != nil {
		return nil, usagef("godist: --tx: %v", err)
	}
	if o.Summary && o.JSON {
		return nil, usagef("godist: --summary prints text; with -json stdout holds only JSON")
	}
	if o.Format != "" && o.JSON {
		return nil, usagef("godist: --format and -json both choose stdout's format; use --jsonfile for the JSON stream")
	}
	if len(o.TxSpecs) == 0 && o.Workers == 0 && o.Dist != run.DistNo {
		return nil, usagef("godist: -n 0 and no --tx: nothing to run tests on (use --dist no to run without workers)")
	}
	if f := testcache.CheckFlags(o.GoTestArgs, os.Getenv("GOFLAGS")); f.Cacheable {
		o.CacheKeyArgs = f.KeyArgs // go test would cache this run's results
	}
	o.ExplicitPackages = len(o.Packages) > 0
	if !o.ExplicitPackages {
		o.Packages = []string{"."}
	}
	return o, nil
}

// checkQueue refuses what --queue does not combine with: each job runs
// what the queue hands it on local workers, and the merge is the run.
func checkQueue(o *run.Config) error {
	if o.Queue == "" {
		if o.QueueLease != 0 {
			return usagef("godist: --queue-lease needs --queue")
		}
		return nil
	}
	var with string
	switch {
	case o.ShardCount > 1:
		with = "--shard (the queue splits the run itself)"
	case o.Dist == run.DistEach:
		with = "--dist each"
	case len(o.TxSpecs) > 0:
		with = "--tx (a queue job runs its units on local workers: -n N)"
	case o.RerunFails > 0:
		with = "--rerun-fails"
	case o.MaxFail > 0:
		with = "--maxfail"
	case o.Failfast:
		with = "-failfast"
	case o.CoverProfile != "":
		with = "-coverprofile"
	case o.ListSet:
		with = "-list"
	default:
		return nil
	}
	return usagef("godist: --queue does not combine with %s", with)
}

// goflagsTestFlags are the test flags among GOFLAGS ($GOFLAGS is a
// space-separated list of -flag or -flag=value): go test honours them as
// if they came first on its command line, so that the command line
// overrides them (cmd/go/internal/test/testflag.go). Build flags there
// need nothing: the go commands godist runs read GOFLAGS themselves.
func goflagsTestFlags(goflags string) []string {
	var out []string
	for _, f := range strings.Fields(goflags) {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if strings.HasPrefix(f, "-") && goflagsTestFlag[name] {
			out = append(out, f)
		}
	}
	return out
}

// goflagsTestFlag are the flags go test takes from GOFLAGS and passes to
// the test binaries (testflag.go's passFlagToTest), as far as godist has
// them; the benchmark and profile flags it refuses anyway.
var goflagsTestFlag = map[string]bool{
	"count": true, "cpu": true, "failfast": true, "fullpath": true, "list": true, "parallel": true,
	"run": true, "short": true, "shuffle": true, "skip": true, "timeout": true, "v": true,
}

// godistFlags are the flags of godist's own, which go test does not have.
var godistFlags = []string{"numprocesses", "tx", "dist", "isolate", "history", "rsyncdir", "format",
	"jsonfile", "junitfile", "test-timeout", "keepalive", "maxfail", "max-worker-restart", "shard", "slowest",
	"rerun-fails", "summary", "worker-attr", "stats", "queue", "queue-lease"}

// nearGodistFlag returns the godist flag that name misspells (at most two
// edits away, for names of four letters or more), or "": a typo of a
// godist flag would otherwise go to the test binaries, which know none.
func nearGodistFlag(name string) string {
	if len(name) < 4 {
		return ""
	}
	for _, f := range godistFlags {
		if editDistance(name, f) <= 2 {
			return f
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// setGodist sets one of godist's own valued flags.
func setGodist(o *run.Config, name, v string) error {
	switch name {
	case "format":
		if err := report.CheckFormat(v); err != nil {
			return usagef("godist: --format: %v", err)
		}
		o.Format = v
	case "jsonfile":
		o.JSONFile = v
	case "shard":
		i, n, ok := strings.Cut(v, "/")
		index, err1 := strconv.Atoi(i)
		count, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || count < 1 || index < 1 || index > count {
			return usagef("godist: --shard %q: want I/N with 1 <= I <= N, e.g. 2/4", v)
		}
		o.ShardIndex, o.ShardCount = index-1, count
	case "junitfile":
		o.JUnitFile = v
	case "queue":
		if v == "" {
			return usagef("godist: --queue: want a URL, redis://HOST:PORT/RUN")
		}
		o.Queue = v
	case "queue-lease":
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return usagef("godist: --queue-lease %q: want a duration of a second or more, such as 30s", v)
		}
		o.QueueLease = d
	case "test-timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return usagef("godist: --test-timeout %q: want a positive duration such as 30s", v)
		}
		o.TestTimeout = d
	case "keepalive":
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d > 0 && d < 30*time.Millisecond) {
			return usagef("godist: --keepalive %q: want a duration such as 15s (0 turns keepalives off)", v)
		}
		o.Keepalive = d
		if d == 0 {
			o.Keepalive = -1
		}
	case "maxfail", "max-worker-restart", "slowest":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return usagef("godist: --%s %q: want a non-negative number", name, v)
		}
		switch name {
		case "maxfail":
			o.MaxFail = n
		case "slowest":
			o.Slowest = n
		default:
			o.MaxWorkerRestart = n
		}
	}
	return nil
}

func setBool(o *run.Config, name string, kind flagKind, b bool) error {
	switch kind {
	case kindBuildBool:
		o.BuildFlags = append(o.BuildFlags, fmt.Sprintf("-%s=%t", name, b))
	case kindTestBool:
		if name == "failfast" {
			o.Failfast = b
		}
		o.TestFlags = append(o.TestFlags, fmt.Sprintf("-test.%s=%t", name, b))
	case kindGodistBool:
		switch name {
		case "v":
			o.Verbose = b
		case "json":
			o.JSON = b
		}
	}
	return nil
}

func setValue(o *run.Config, name string, kind flagKind, v string) error {
	switch kind {
	case kindBuild:
		o.BuildFlags = append(o.BuildFlags, "-"+name+"="+v)
		return nil
	case kindGodist:
		switch name {
		case "list":
			o.List, o.ListSet = v, true
		case "vet":
			o.Vet, o.VetSet = v, true
		case "coverprofile":
			o.CoverProfile = v
			o.BuildFlags = append(o.BuildFlags, "-cover=true")
		case "p":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return usagef("godist: -p %q: want a positive number", v)
			}
			o.BuildP = n
		}
		return nil
	}
	switch name {
	case "run":
		o.Run = v
		return nil // the scheduler builds each unit's -test.run from it
	case "skip":
		o.Skip = v
	case "count", "parallel":
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return usagef("godist: invalid value %q for -%s: want a non-negative number", v, name)
		}
	case "timeout":
		d, err := time.ParseDuration(v)
		if err != nil {
			return usagef("godist: invalid value %q for -timeout: %v", v, err)
		}
		o.Timeout = d
		return nil // passed per process by the runner
	}
	o.TestFlags = append(o.TestFlags, "-test."+name+"="+v)
	return nil
}
