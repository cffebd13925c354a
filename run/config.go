package run

import (
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DistMode is --dist.
type DistMode string

const (
	DistLoad    DistMode = "load"
	DistLoadPkg DistMode = "loadpkg"
	DistEach    DistMode = "each"
	DistNo      DistMode = "no"
)

// IsolateMode is --isolate.
type IsolateMode string

const (
	// IsolateAuto: each test process in a network namespace of its own
	// where the system allows one, with a TMPDIR of its own everywhere.
	IsolateAuto IsolateMode = "auto"
	// IsolateNet: as auto, and a run whose local workers cannot have
	// namespaces is refused.
	IsolateNet IsolateMode = "net"
	// IsolateNone: test processes share the host's network and TMPDIR, as
	// under go test.
	IsolateNone IsolateMode = "none"
)

// Config is one run: what `godist [flags] [packages] [-args ...]` says.
// Start from DefaultConfig.
type Config struct {
	Packages         []string
	ExplicitPackages bool // packages named on the command line (not local directory mode)

	Verbose      bool
	JSON         bool
	List         string
	ListSet      bool
	Vet          string
	VetSet       bool
	CoverProfile string
	BuildP       int

	Run, Skip string
	Failfast  bool
	Timeout   time.Duration

	BuildFlags []string // for go test -c / go list
	TestFlags  []string // -test.X=V for each process, in command-line order
	TestArgs   []string // after -args
	GoTestArgs []string // the command line without godist's own flags: what go test would get

	// CacheKeyArgs are the cacheable test arguments of go test's result
	// cache (testcache.Flags.KeyArgs) when the command line is cacheable,
	// nil when not: then every test runs.
	CacheKeyArgs  []string
	CacheDir      string // the result cache's directory; "": testcache.DefaultDir()
	CachePortable bool   // hash inputs so that other machines sharing CacheDir agree (testcache.Options.Portable)

	Workers         int         // -n
	WorkersExplicit bool        // -n given on the command line
	TxSpecs         []string    // --tx
	Dist            DistMode    // --dist
	DistSet         bool        // --dist given: no go test path for small suites
	Isolate         IsolateMode // --isolate
	HistoryFile     string      // --history
	RsyncDirs       []string    // --rsyncdir: more directories for test bundles
	StatsFile       string      // --stats: run figures for the benchmark harness

	Format    string // --format: a gotestsum format name
	JSONFile  string // --jsonfile: the merged JSON stream, whatever the terminal shows
	JUnitFile string // --junitfile: JUnit XML like gotestsum's

	TestTimeout time.Duration // --test-timeout: per top-level test
	// Keepalive is --keepalive: a worker silent this long (pinged every
	// third of it) is lost. 0 means gateway.DefaultKeepalive, negative off.
	Keepalive        time.Duration
	MaxFail          int  // --maxfail: stop scheduling after this many failed tests (0: never)
	MaxWorkerRestart int  // --max-worker-restart (-1: 4 × workers, xdist's default)
	RerunFails       int  // --rerun-fails[=N]: rerun failed tests up to N times
	Slowest          int  // --slowest N: list the N slowest tests at the end
	Summary          bool // --summary: gotestsum's summary after go test's text
	WorkerAttr       bool // --worker-attr: report the worker of each test (attr events)
	ShardIndex       int  // --shard I/N: 0-based I
	ShardCount       int  // --shard I/N: N (0: no sharding)
	// Queue is --queue URL: this job takes its tests from the shared
	// queue of a run on Redis (package queue). QueueLease is
	// --queue-lease: how long a silent job keeps its units (0: the
	// queue's default).
	Queue      string
	QueueLease time.Duration
}

// DefaultConfig is a run with go test's defaults and godist's: a worker
// per CPU, --dist load, -timeout 10m, worker attribution on.
func DefaultConfig() *Config {
	return &Config{
		Dist:             DistLoad,
		Isolate:          IsolateAuto,
		MaxWorkerRestart: -1,
		WorkerAttr:       true,
		Workers:          runtime.NumCPU(),
		Timeout:          10 * time.Minute,
		BuildP:           runtime.GOMAXPROCS(0),
	}
}

// covering reports whether the build flags turn coverage on, as go test
// reads them: -cover, or -covermode/-coverpkg, which set it.
func (o *Config) covering() bool {
	on := false
	for _, f := range o.BuildFlags {
		name, value, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		switch name {
		case "cover":
			b, err := strconv.ParseBool(value)
			on = value == "" || err == nil && b
		case "covermode", "coverpkg":
			on = true
		}
	}
	return on
}
