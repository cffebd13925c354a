// Package scheduler decides what godist runs where: it discovers the
// top-level tests of the packages gotool loaded by parsing their _test.go
// files (no type checking, no TestMain side effects), applies go test's
// -run/-skip semantics, keeps a duration history across runs, plans batches
// of tests ("units") balanced by expected duration, and dispatches them to
// workers from one longest-first ready queue, requeueing tests that never
// ran. Everything that runs the go command (loading packages, building test
// binaries) is package gotool's.
//
// The godist command wires it like this:
//
//	pkgs, err := gotool.Load(ctx, gotool.LoadConfig{Dir, Patterns, BuildFlags, Env})
//	filter, err := NewFilter(run, skip)            // bad pattern: usage error
//	for each pkg with HasTests() and no Error:
//		pt, err := Discover(pkg)                   // err: leave it to the build,
//		sel = append(sel, pt.Select(filter))       // which reports it as go does
//	hist, _ := LoadHistory(path)                   // DefaultHistoryPath()
//	units := Plan(sel, hist, workers, PlanOptions{Dist: dist})
//	d := NewDispatcher(DispatchOptions{})
//	go func() { // a goroutine of the caller's, ended by BuildAll's return
//		defer d.CloseAdd()
//		gotool.BuildAll(ctx, reqs, 0, func(r gotool.BuildResult) {
//			// r.Err: build/setup failure with r.Output; r.NoTestFiles;
//			// else d.Add(units of r.Pkg...) — they run with r.Binary,
//			// -test.run=filter.RunArg(u.Tests), -test.skip=filter.SkipArg().
//		})
//	}()
//	notRun, err := d.Run(ctx, workers, executor)   // blocks until done
//	hist.Record(pkg, ResultFromEvents(procStart, events)) // per process
//	hist.Save()
//
// Goroutines: Dispatcher.Run runs one goroutine per worker (plus a
// context.AfterFunc callback) and returns only after they ended. Nothing
// else starts goroutines.
package scheduler
