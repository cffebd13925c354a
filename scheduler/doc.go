// Package scheduler decides what godist runs where: it loads the packages
// named on the command line (go list), discovers their top-level tests by
// parsing the _test.go files (no type checking, no TestMain side effects),
// applies go test's -run/-skip semantics, builds one test binary per package
// (go test -c, in parallel, each result delivered as soon as it is ready),
// keeps a duration history across runs, plans batches of tests ("units")
// balanced by expected duration, and dispatches them to workers from one
// longest-first ready queue, requeueing tests that never ran.
//
// The godist command wires it like this:
//
//	pkgs, err := Load(ctx, LoadConfig{Dir, Patterns, BuildFlags, Env})
//	filter, err := NewFilter(run, skip)            // bad pattern: usage error
//	for each pkg with HasTests() and no Error:
//		pt, err := Discover(pkg)                   // err: leave it to the build,
//		sel = append(sel, pt.Select(filter))       // which reports it as go does
//	hist, _ := LoadHistory(path)                   // DefaultHistoryPath()
//	units := Plan(sel, hist, workers, PlanOptions{Dist: dist})
//	d := NewDispatcher(DispatchOptions{})
//	go func() { // a goroutine of the caller's, ended by BuildAll's return
//		defer d.CloseAdd()
//		BuildAll(ctx, reqs, 0, func(r BuildResult) {
//			// r.Err: build/setup failure with r.Output; r.NoTestFiles;
//			// else d.Add(units of r.Pkg...) — they run with r.Binary,
//			// -test.run=filter.RunArg(u.Tests), -test.skip=filter.SkipArg().
//		})
//	}()
//	notRun, err := d.Run(ctx, workers, executor)   // blocks until done
//	hist.Record(pkg, ResultFromEvents(procStart, events)) // per process
//	hist.Save()
//
// BuildExec (one `go test -exec SHIM`, each binary delivered as soon as it
// is linked; the program must call MainIfBuildShim first) and BuildGroups
// (`go test -c -o DIR/` for groups of packages) take BuildAll's place with
// fewer go commands.
//
// Goroutines: BuildAll runs at most its concurrency limit of goroutines,
// each running one `go test -c` at a time, and returns only after all of
// them ended; BuildExec adds a unix-socket accept loop and a goroutine per
// hand-over, BuildGroups one per group, all ended before they return.
// Dispatcher.Run runs one goroutine per worker (plus a
// context.AfterFunc callback) and returns only after they ended. Nothing
// else starts goroutines; Load and Build run child processes synchronously
// and kill them when their context ends.
package scheduler
