package main

import (
	"fmt"
	"strings"
	"time"
)

// suite is a test suite run in place: `go test FLAGS PKGS` and
// `godist FLAGS PKGS` in Dir. Both tools get exactly the same flags and
// packages, so a -skip applies to both.
type suite struct {
	Name  string
	Dir   string   // relative to the repository root
	Flags []string // flags common to both tools
	Pkgs  []string // package patterns
	// Budget bounds one run; a run still going after it is interrupted
	// (SIGINT to its process group, then SIGKILL) and reported as a hang.
	Budget time.Duration
	Why    string // what the suite shows
	// Skipped says which tests the -skip in Flags leaves out, and why: the
	// test needs the network, or fails under go test too.
	Skipped string
	// ExcludePkgs are packages left out of Pkgs' patterns (the harness
	// expands the patterns with go list and passes the rest by import
	// path): packages whose init fails outside their source repository,
	// which no -skip can reach.
	ExcludePkgs []string
}

// corpus reports whether the suite's packages come from the module cache
// through bench/corpus/go.mod.
func (s suite) corpus() bool { return s.Dir == "bench/corpus" }

var suites = []suite{
	{Name: "slow", Dir: "testdata/basic", Pkgs: []string{"./slow/"}, Budget: 2 * time.Minute,
		Why: "16 sequential tests of 0.5 s: the distribution win"},
	{Name: "many", Dir: "testdata/basic", Pkgs: []string{"./many/"}, Budget: 2 * time.Minute,
		Why: "300 tiny tests: the overhead of splitting"},
	{Name: "basic", Dir: "testdata/basic", Flags: []string{"-skip", "^TestSlow"}, Pkgs: []string{"./..."}, Budget: 3 * time.Minute,
		Why:     "every fixture package (one build failure, one vet failure, failing tests: exit 1 under both tools)",
		Skipped: "TestSlow*: the slow suite measures them"},
	{Name: "subtests", Dir: "testdata/subtests", Pkgs: []string{"./..."}, Budget: 3 * time.Minute,
		Why: "time under a few top-level tests (table test, testify suite, duplicate Test): splitting below the top level, from the second run (+hist)"},
	{Name: "raft", Dir: "bench/corpus", Budget: 8 * time.Minute,
		Flags: []string{"-timeout", "5m", "-skip", "^(" + strings.Join(raftSkips, "|") + ")$"},
		Pkgs:  []string{"github.com/hashicorp/raft/..."},
		Why:   "hashicorp/raft v1.8.0: one package, 154 sequential tests, TestRaft_UserRestore alone ~85 s",
		Skipped: "TestFileSS_BadPerm expects a permission error that root never gets; the other " + fmt.Sprint(len(raftSkips)-1) +
			" (" + strings.Join(raftSkips[1:], ", ") + ") failed under go test -count=1 on this loaded 2-CPU machine with " +
			"\"expected one leader: []\": their leader elections have tens-of-milliseconds timeouts that a busy machine misses"},
	{Name: "apimachinery", Dir: "bench/corpus", Budget: 8 * time.Minute,
		Flags: []string{"-timeout", "5m", "-skip", "^TestGetNameFromCallsite$"}, Pkgs: []string{"k8s.io/apimachinery/..."},
		Why: "k8s.io/apimachinery v0.37.2: ~60 packages with tests",
		Skipped: "TestGetNameFromCallsite (util/naming) expects the k8s.io/apimachinery/ path prefix of a source checkout and fails " +
			"from the module cache under go test too; packages util/managedfields and util/managedfields/internal are left out: " +
			"their test init reads ../../api/openapi-spec/swagger.json of the kubernetes repository and panics",
		ExcludePkgs: []string{"k8s.io/apimachinery/pkg/util/managedfields", "k8s.io/apimachinery/pkg/util/managedfields/internal"}},
	{Name: "fiber", Dir: "bench/corpus", Flags: []string{"-timeout", "5m"}, Pkgs: []string{"github.com/gofiber/fiber/v2/..."}, Budget: 8 * time.Minute,
		Why: "gofiber/fiber v2.52.15: t.Parallel-heavy, many packages"},
}

var raftSkips = []string{
	"TestFileSS_BadPerm",
	"TestRaft_PreVoteMixedCluster",
	"TestRaft_ProtocolVersion_Upgrade_2_3",
	"TestRaft_LeadershipTransferWithOneNode",
	"TestRaft_GetConfigurationNoBootstrap",
	"TestRaft_ClusterCanRegainStability_WhenNonVoterWithHigherTermJoin",
	"TestRaft_FollowerRemovalNoElection",
}

// config is one way to run a suite.
type config struct {
	Name   string
	Godist bool
	Args   []string
	// History runs share one duration history, recorded by an untimed
	// warm-up run and updated by each of them; the other godist runs start
	// from an empty history every time.
	History bool
}

var configs = []config{
	{Name: "go test"},
	{Name: "godist -n auto", Godist: true, Args: []string{"-n", "auto"}},
	{Name: "godist -n 4", Godist: true, Args: []string{"-n", "4"}},
	{Name: "godist -n 8", Godist: true, Args: []string{"-n", "8"}},
	{Name: "godist -n auto +hist", Godist: true, Args: []string{"-n", "auto"}, History: true},
	{Name: "godist -n 4 +hist", Godist: true, Args: []string{"-n", "4"}, History: true},
	{Name: "godist -n 8 +hist", Godist: true, Args: []string{"-n", "8"}, History: true},
}

func findSuite(name string) (suite, bool) {
	for _, s := range suites {
		if s.Name == name {
			return s, true
		}
	}
	return suite{}, false
}

func suiteNames() string {
	var names []string
	for _, s := range suites {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

func configNames() string {
	var names []string
	for _, c := range configs {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}
