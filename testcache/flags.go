package testcache

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Flags is go test's caching decision for one command line, made the way
// cmd/go makes it (testFlags, then tryCacheWithID's loop over testArgs).
type Flags struct {
	// Cacheable reports whether go test would look results up in, and save
	// them to, its cache for this command line.
	Cacheable bool
	// Reason says why not, when Cacheable is false: the first argument
	// that disables caching, quoted, or "no package arguments".
	Reason string
	// KeyArgs are the cacheable test-binary arguments in go test's form
	// and order (`-test.v=test2json`, `-test.timeout=10m0s`, `-test.run=X`,
	// ...). They enter the Key; -test.coverprofile and -test.outputdir do
	// not. Nil when Cacheable is false.
	KeyArgs []string
	// TestArgs are all the arguments go test would pass to the test binary
	// (before -test.testlogfile and the other arguments it adds itself).
	TestArgs []string
	// Packages are the package arguments found on the command line.
	Packages []string
}

// flagKind says how go test parses a flag: whether it takes a value and
// how %v prints that value when go test forwards it to the binary.
type flagKind int

const (
	kindBool     flagKind = iota // -x, -x=true|false
	kindVBool                    // -v: a bool that also accepts test2json
	kindString                   // -x V, -x=V
	kindInt                      // printed in decimal
	kindDuration                 // printed by time.Duration.String
)

// goTestFlags are the flags `go test` itself defines (go 1.26:
// work.AddBuildFlags with OmitVFlag|OmitJSONFlag, AddCoverFlags, and
// cmd/go/internal/test's own), by kind. forwarded marks the flags go test
// passes on to the test binary as -test.NAME=VALUE (passFlagToTest).
var goTestFlags = map[string]struct {
	kind      flagKind
	forwarded bool
}{
	// build flags: consumed by go test, never reach the binary.
	"a": {kindBool, false}, "n": {kindBool, false}, "x": {kindBool, false},
	"p": {kindInt, false}, "C": {kindString, false},
	"asan": {kindBool, false}, "msan": {kindBool, false}, "race": {kindBool, false},
	"asmflags": {kindString, false}, "compiler": {kindString, false},
	"buildmode": {kindString, false}, "buildvcs": {kindBool, false},
	"gcflags": {kindString, false}, "gccgoflags": {kindString, false},
	"mod": {kindString, false}, "modcacherw": {kindBool, false},
	"modfile": {kindString, false}, "overlay": {kindString, false},
	"installsuffix": {kindString, false}, "ldflags": {kindString, false},
	"linkshared": {kindBool, false}, "pgo": {kindString, false},
	"pkgdir": {kindString, false}, "tags": {kindString, false},
	"toolexec": {kindString, false}, "trimpath": {kindBool, false},
	"work": {kindBool, false}, "debug-actiongraph": {kindString, false},
	"debug-runtime-trace": {kindString, false}, "debug-trace": {kindString, false},
	"cover": {kindBool, false}, "covermode": {kindString, false},
	"coverpkg": {kindString, false},
	"c":        {kindBool, false}, "o": {kindString, false},
	"exec": {kindString, false}, "json": {kindBool, false}, "vet": {kindString, false},
	// test flags: forwarded to the binary.
	"artifacts": {kindBool, true}, "bench": {kindString, true},
	"benchmem": {kindBool, true}, "benchtime": {kindString, true},
	"blockprofile": {kindString, true}, "blockprofilerate": {kindString, true},
	"count": {kindInt, true}, "coverprofile": {kindString, true},
	"cpu": {kindString, true}, "cpuprofile": {kindString, true},
	"failfast": {kindBool, true}, "fullpath": {kindBool, true},
	"fuzz": {kindString, true}, "fuzzminimizetime": {kindString, true},
	"fuzztime": {kindString, true}, "list": {kindString, true},
	"memprofile": {kindString, true}, "memprofilerate": {kindString, true},
	"mutexprofile": {kindString, true}, "mutexprofilefraction": {kindString, true},
	"outputdir": {kindString, true}, "parallel": {kindInt, true},
	"run": {kindString, true}, "short": {kindBool, true},
	"shuffle": {kindString, true}, "skip": {kindString, true},
	"timeout": {kindDuration, true}, "trace": {kindString, true},
	"v": {kindVBool, true},
}

// cacheableArgs are the -test.* flags go test caches with, entering the
// key; keylessArgs are allowed without entering it (tryCacheWithID).
var (
	cacheableArgs = map[string]bool{
		"-test.benchtime": true, "-test.cpu": true, "-test.list": true,
		"-test.parallel": true, "-test.run": true, "-test.short": true,
		"-test.skip": true, "-test.timeout": true, "-test.failfast": true,
		"-test.v": true, "-test.fullpath": true,
	}
	keylessArgs = map[string]bool{"-test.coverprofile": true, "-test.outputdir": true}
)

// lookupFlag finds a go test flag by the name given on the command line,
// including the -test.NAME spelling go test accepts for forwarded flags.
// It returns the canonical (short) name.
func lookupFlag(name string) (string, flagKind, bool, bool) {
	if f, ok := goTestFlags[name]; ok {
		return name, f.kind, f.forwarded, true
	}
	if short, ok := strings.CutPrefix(name, "test."); ok {
		if f, ok := goTestFlags[short]; ok && f.forwarded {
			return short, f.kind, true, true
		}
	}
	return "", 0, false, false
}

// normalize returns value the way go test prints it with %v when it
// forwards the flag (`-test.timeout=1m0s` for `-timeout 60s`).
func normalize(kind flagKind, value string) (string, error) {
	switch kind {
	case kindBool:
		b, err := strconv.ParseBool(value)
		return strconv.FormatBool(b), err
	case kindVBool:
		if value == "test2json" {
			return value, nil
		}
		b, err := strconv.ParseBool(value)
		return strconv.FormatBool(b), err
	case kindInt:
		n, err := strconv.ParseInt(value, 0, strconv.IntSize)
		return strconv.FormatInt(n, 10), err
	case kindDuration:
		d, err := time.ParseDuration(value)
		return d.String(), err
	}
	return value, nil
}

// CheckFlags makes go test's caching decision for a go test command line:
// args is what follows `go test` (flags, packages, -args and what follows
// it), goflags the value of $GOFLAGS. It reproduces go test's flag
// processing: known flags are forwarded as -test.NAME=VALUE, $GOFLAGS's
// test flags are injected before the command line's, -json injects
// -test.v=test2json, a missing -timeout injects -test.timeout=10m0s,
// unknown flags and everything after -args pass through raw. Then every
// forwarded argument must be a cacheable -test.NAME=VALUE: any other one,
// -count included whatever its value, disables caching, as does a command
// line without package arguments (go test's local directory mode).
//
// A malformed command line (a flag missing its value, a bad bool) is
// reported as not cacheable; go test would refuse it.
func CheckFlags(args []string, goflags string) Flags {
	var f Flags
	set := map[string]string{}   // canonical name -> normalized value, from GOFLAGS and the command line
	fromCmd := map[string]bool{} // canonical names set on the command line
	var explicit []string
	inPkgList, pkgListDone, afterNoValue := false, false, false

	// GOFLAGS first, as base.SetFromGOFLAGS: unknown flags ignored.
	for _, gf := range strings.Fields(goflags) {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(gf, "-"), "-"), "=")
		canon, kind, _, ok := lookupFlag(name)
		if !ok {
			continue
		}
		if !hasValue {
			if kind != kindBool && kind != kindVBool {
				return notCacheable(f, fmt.Sprintf("$GOFLAGS flag %q needs a value", gf))
			}
			value = "true"
		}
		v, err := normalize(kind, value)
		if err != nil && goTestFlags[canon].forwarded {
			return notCacheable(f, fmt.Sprintf("$GOFLAGS flag %q: %v", gf, err))
		}
		set[canon] = v
	}

	for i := 0; i < len(args); i++ {
		arg := args[i]
		wasAfterNoValue := afterNoValue
		afterNoValue = false
		if arg == "--" {
			explicit = append(explicit, args[i:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			if pkgListDone && !inPkgList {
				if wasAfterNoValue {
					explicit = append(explicit, arg)
					continue
				}
				explicit = append(explicit, args[i:]...)
				break
			}
			inPkgList = true
			f.Packages = append(f.Packages, arg)
			continue
		}
		if inPkgList {
			inPkgList = false
			pkgListDone = true
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
		canon, kind, forwarded, ok := lookupFlag(name)
		if !ok {
			// Unknown to go test: passed to the binary as is, and from now
			// on a non-flag may be its value rather than a package.
			pkgListDone = true
			if name == "args" {
				explicit = append(explicit, args[i+1:]...)
				break
			}
			explicit = append(explicit, arg)
			afterNoValue = !hasValue
			continue
		}
		if !hasValue {
			if kind == kindBool || kind == kindVBool {
				value = "true"
			} else {
				if i+1 == len(args) {
					return notCacheable(f, fmt.Sprintf("flag %q needs a value", arg))
				}
				i++
				value = args[i]
			}
		}
		v, err := normalize(kind, value)
		if err != nil && forwarded {
			return notCacheable(f, fmt.Sprintf("flag %q: %v", arg, err))
		}
		set[canon] = v
		if forwarded {
			explicit = append(explicit, "-test."+canon+"="+v)
			fromCmd[canon] = true
		}
	}

	// testFlags' injected flags: -json's -test.v=test2json, then GOFLAGS's
	// forwarded flags not overridden on the command line (flag.Visit
	// order: sorted by name), then the default timeout.
	var injected []string
	if set["json"] == "true" {
		injected = append(injected, "-test.v=test2json")
		fromCmd["v"] = true // -json drops GOFLAGS's -v
	}
	var names []string
	for name := range set {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if goTestFlags[name].forwarded && !fromCmd[name] {
			injected = append(injected, "-test."+name+"="+set[name])
		}
	}
	if _, ok := set["timeout"]; !ok {
		injected = append(injected, "-test.timeout=10m0s")
	}
	f.TestArgs = append(injected, explicit...)

	if len(f.Packages) == 0 {
		return notCacheable(f, "no package arguments (local directory mode)")
	}
	var key []string
	for _, arg := range f.TestArgs {
		name, _, hasValue := strings.Cut(arg, "=")
		if !hasValue || !strings.HasPrefix(arg, "-test.") {
			return notCacheable(f, fmt.Sprintf("test argument %q", arg))
		}
		switch {
		case cacheableArgs[name]:
			key = append(key, arg)
		case keylessArgs[name]:
		default:
			return notCacheable(f, fmt.Sprintf("test argument %q", arg))
		}
	}
	f.Cacheable, f.KeyArgs = true, key
	return f
}

func notCacheable(f Flags, reason string) Flags {
	f.Cacheable, f.Reason, f.KeyArgs = false, "caching disabled by "+reason, nil
	return f
}
