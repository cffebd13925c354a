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
)

// usageError is a bad command line: exit status 2, like go test.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
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

// distMode is --dist.
type distMode string

const (
	distLoad    distMode = "load"
	distLoadPkg distMode = "loadpkg"
	distEach    distMode = "each"
	distNo      distMode = "no"
)

// options is the parsed command line of `godist [flags] [packages] [-args ...]`.
type options struct {
	packages         []string
	explicitPackages bool // packages named on the command line (not local directory mode)

	verbose      bool
	json         bool
	list         string
	listSet      bool
	vet          string
	vetSet       bool
	coverProfile string
	buildP       int

	run, skip string
	failfast  bool
	timeout   time.Duration

	buildFlags []string // for go test -c / go list
	testFlags  []string // -test.X=V for each process, in command-line order
	testArgs   []string // after -args

	workers         int      // -n
	workersExplicit bool     // -n given on the command line
	txSpecs         []string // --tx
	dist            distMode // --dist
	distSet         bool     // --dist given: no go test path for small suites
	historyFile     string   // --history
	rsyncDirs       []string // --rsyncdir: more directories for test bundles
	statsFile       string   // --stats: run figures for the benchmark harness

	format    string // --format: a gotestsum format name
	jsonFile  string // --jsonfile: the merged JSON stream, whatever the terminal shows
	junitFile string // --junitfile: JUnit XML like gotestsum's

	testTimeout      time.Duration // --test-timeout: per top-level test
	maxFail          int           // --maxfail: stop scheduling after this many failed tests (0: never)
	maxWorkerRestart int           // --max-worker-restart (-1: 4 × workers, xdist's default)
	rerunFails       int           // --rerun-fails[=N]: rerun failed tests up to N times
	slowest          int           // --slowest N: list the N slowest tests at the end
	summary          bool          // --summary: gotestsum's summary after go test's text
	workerAttr       bool          // --worker-attr: report the worker of each test (attr events)
	shardIndex       int           // --shard I/N: 0-based I
	shardCount       int           // --shard I/N: N (0: no sharding)
}

// parseArgs parses godist's command line the way go test parses its own:
// flags may come before and after the package list; `-args` ends parsing.
func parseArgs(args []string) (*options, error) {
	o := &options{
		dist:             distLoad,
		maxWorkerRestart: -1,
		workerAttr:       true,
		workers:          runtime.NumCPU(),
		timeout:          10 * time.Minute,
		buildP:           runtime.GOMAXPROCS(0),
	}
	workersSet := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-args" || arg == "--args" {
			o.testArgs = append(o.testArgs, args[i+1:]...)
			break
		}
		if arg == "--" {
			return nil, usagef("godist: unexpected \"--\"; use -args to pass arguments to test binaries")
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			o.packages = append(o.packages, arg)
			continue
		}
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
		case "n", "numprocesses":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			if v == "auto" || v == "logical" {
				o.workers = runtime.NumCPU()
			} else {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return nil, usagef("godist: -n %q: want a number of workers or \"auto\"", v)
				}
				o.workers = n
			}
			workersSet = true
			continue
		case "tx":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			o.txSpecs = append(o.txSpecs, v)
			continue
		case "dist":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			switch m := distMode(v); m {
			case distLoad, distLoadPkg, distNo, distEach:
				o.dist, o.distSet = m, true
			default:
				return nil, usagef("godist: --dist %q: want one of load, loadpkg, each, no", v)
			}
			continue
		case "history":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			o.historyFile = v
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
			o.rsyncDirs = append(o.rsyncDirs, abs)
			continue
		case "format", "jsonfile", "junitfile", "test-timeout", "maxfail", "max-worker-restart", "shard", "slowest":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			if err := o.setGodist(name, v); err != nil {
				return nil, err
			}
			continue
		case "rerun-fails":
			o.rerunFails = 2 // gotestsum's default
			if hasValue {
				n, err := strconv.Atoi(value)
				if err != nil || n < 0 {
					return nil, usagef("godist: --rerun-fails=%q: want a number of reruns", value)
				}
				o.rerunFails = n
			}
			continue
		case "summary":
			o.summary = true
			continue
		case "worker-attr":
			o.workerAttr = true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, usagef("godist: invalid boolean value %q for --worker-attr", value)
				}
				o.workerAttr = b
			}
			continue
		case "stats":
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			o.statsFile = v
			continue
		}
		if why, ok := unsupportedFlags[name]; ok {
			return nil, usagef("godist: flag -%s is not supported: %s", name, why)
		}
		kind, ok := goFlags[name]
		if !ok {
			return nil, usagef("godist: unknown flag %s (see godist -h)", arg)
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
			if err := o.setBool(name, kind, b); err != nil {
				return nil, err
			}
		default:
			v, err := needValue()
			if err != nil {
				return nil, err
			}
			if err := o.setValue(name, kind, v); err != nil {
				return nil, err
			}
		}
	}
	o.workersExplicit = workersSet
	if o.dist == distEach && o.shardCount > 1 {
		return nil, usagef("godist: --dist each runs everything everywhere; it does not combine with --shard")
	}
	if _, err := gateway.ParseSpecs(o.txSpecs); err != nil {
		return nil, usagef("godist: --tx: %v", err)
	}
	if o.summary && o.json {
		return nil, usagef("godist: --summary prints text; with -json stdout holds only JSON")
	}
	if o.format != "" && o.json {
		return nil, usagef("godist: --format and -json both choose stdout's format; use --jsonfile for the JSON stream")
	}
	if len(o.txSpecs) == 0 && o.workers == 0 && o.dist != distNo {
		return nil, usagef("godist: -n 0 and no --tx: nothing to run tests on (use --dist no to run without workers)")
	}
	o.explicitPackages = len(o.packages) > 0
	if !o.explicitPackages {
		o.packages = []string{"."}
	}
	return o, nil
}

// setGodist sets one of godist's own valued flags.
func (o *options) setGodist(name, v string) error {
	switch name {
	case "format":
		if err := report.CheckFormat(v); err != nil {
			return usagef("godist: --format: %v", err)
		}
		o.format = v
	case "jsonfile":
		o.jsonFile = v
	case "shard":
		i, n, ok := strings.Cut(v, "/")
		index, err1 := strconv.Atoi(i)
		count, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || count < 1 || index < 1 || index > count {
			return usagef("godist: --shard %q: want I/N with 1 <= I <= N, e.g. 2/4", v)
		}
		o.shardIndex, o.shardCount = index-1, count
	case "junitfile":
		o.junitFile = v
	case "test-timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return usagef("godist: --test-timeout %q: want a positive duration such as 30s", v)
		}
		o.testTimeout = d
	case "maxfail", "max-worker-restart", "slowest":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return usagef("godist: --%s %q: want a non-negative number", name, v)
		}
		switch name {
		case "maxfail":
			o.maxFail = n
		case "slowest":
			o.slowest = n
		default:
			o.maxWorkerRestart = n
		}
	}
	return nil
}

func (o *options) setBool(name string, kind flagKind, b bool) error {
	switch kind {
	case kindBuildBool:
		o.buildFlags = append(o.buildFlags, fmt.Sprintf("-%s=%t", name, b))
	case kindTestBool:
		if name == "failfast" {
			o.failfast = b
		}
		o.testFlags = append(o.testFlags, fmt.Sprintf("-test.%s=%t", name, b))
	case kindGodistBool:
		switch name {
		case "v":
			o.verbose = b
		case "json":
			o.json = b
		}
	}
	return nil
}

func (o *options) setValue(name string, kind flagKind, v string) error {
	switch kind {
	case kindBuild:
		o.buildFlags = append(o.buildFlags, "-"+name+"="+v)
		return nil
	case kindGodist:
		switch name {
		case "list":
			o.list, o.listSet = v, true
		case "vet":
			o.vet, o.vetSet = v, true
		case "coverprofile":
			o.coverProfile = v
			o.buildFlags = append(o.buildFlags, "-cover=true")
		case "p":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return usagef("godist: -p %q: want a positive number", v)
			}
			o.buildP = n
		}
		return nil
	}
	switch name {
	case "run":
		o.run = v
		return nil // the scheduler builds each unit's -test.run from it
	case "skip":
		o.skip = v
	case "count", "parallel":
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return usagef("godist: invalid value %q for -%s: want a non-negative number", v, name)
		}
	case "timeout":
		d, err := time.ParseDuration(v)
		if err != nil {
			return usagef("godist: invalid value %q for -timeout: %v", v, err)
		}
		o.timeout = d
		return nil // passed per process by the runner
	}
	o.testFlags = append(o.testFlags, "-test."+name+"="+v)
	return nil
}
