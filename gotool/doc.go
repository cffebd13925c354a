// Package gotool owns everything godist asks of the go command: loading
// the packages named on the command line (Load, go list), building their
// test binaries (Build and BuildAll: one `go test -c` per package;
// BuildGroups: `go test -c -o DIR/` for groups of packages; BuildExec: one
// `go test -exec SHIM` whose shim, godist itself through MainIfBuildShim,
// hands each binary over the moment it is linked). Package scheduler
// decides what runs where; it never runs the go command.
//
// Goroutines: BuildAll runs at most its concurrency limit of goroutines,
// each running one `go test -c` at a time, and returns only after all of
// them ended; BuildExec adds a unix-socket accept loop and a goroutine per
// hand-over, BuildGroups one per group, all ended before they return.
// Nothing else starts goroutines; Load and Build run child processes
// synchronously and kill them when their context ends.
package gotool
