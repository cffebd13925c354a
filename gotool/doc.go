// Package gotool owns everything godist asks of the go command: loading
// the packages named on the command line (Load, go list), building their
// test binaries (Build and BuildAll: one `go test -c` per package;
// BuildGroups: `go test -c -o DIR/` for groups of packages; BuildExec: one
// `go test -exec SHIM` whose shim, godist itself through MainIfBuildShim,
// hands each binary over the moment it is linked). Package scheduler
// decides what runs where; it never runs the go command.
//
// # Why Load parses go list itself
//
// golang.org/x/tools/go/packages, the loader the Go tools share, was
// measured against Load and not adopted. Both run the same go list, so
// go.work, GOFLAGS, -tags, -mod, -overlay and the other build flags are
// handled by the go command either way (the tests hold Load to go test on
// each). The smallest go/packages mode that yields what Discover needs
// (NeedName|NeedFiles|NeedForTest with Tests, for TestGoFiles and
// XTestGoFiles; godist needs no Module) costs more, because test file
// lists come only with go list -test, which also computes every test
// variant and test main (loading package testing and the tests' imports),
// plus one go list probe of the go version per load. Wall time of
// `./...`, go 1.26.8, golang.org/x/tools v0.52.0, 2 shared CPUs (load
// 2-5), warm caches, median of 20 (10 for apimachinery), min in brackets:
//
//	module                 packages  Load           go/packages    extra
//	scheduler/testdata/mod       11  15.5 (11.6) ms   65 (47) ms    +50 ms, 4.2x
//	godist                        9   132  (89) ms   173 (126) ms   +40 ms, +31%
//	hashicorp/raft v1.8.0         2    76  (65) ms    95  (80) ms   +19 ms, +25%
//	k8s.io/apimachinery v0.37.2  99   254 (169) ms   406 (276) ms  +150 ms, +60%
//
// The bare commands show where it goes: go list without -test 12/131/70/276
// ms, with -test 77/148/90/495 ms, the version probe 8-12 ms. The
// information was the same for every package of the four modules (import
// path, directory, name, test and external test files, whether it has an
// error, go test's order). go/packages would add load-time errors in test
// imports, which `go test -c` reports anyway, in go's words; and it would
// lose go list's warnings (a pattern matching no packages, which go test
// prints), reinterpret patterns containing "=" as queries, and obey
// GOPACKAGESDRIVER, so godist could run other packages than go test.
// Every godist run pays the load before its first build starts.
//
// Goroutines: BuildAll runs at most its concurrency limit of goroutines,
// each running one `go test -c` at a time, and returns only after all of
// them ended; BuildExec adds a unix-socket accept loop and a goroutine per
// hand-over, BuildGroups one per group, all ended before they return.
// Nothing else starts goroutines; Load and Build run child processes
// synchronously and kill them when their context ends.
package gotool
