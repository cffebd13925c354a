// Package collector turns the raw output of test-binary processes into the
// event stream that `go test -json` prints, and merges the output of many
// processes of one package (batches of top-level tests, possibly run on
// several workers) into one go test-shaped package stream.
//
// Everything here is a plain converter in the style of
// cmd/internal/test2json: bytes or events go in, [Event] values come out
// through a callback. The package starts no goroutines and uses no timers;
// time is read from an injectable clock so tests are deterministic.
//
// The pieces, from the bottom up:
//
//   - [ProcessConverter]: fed the combined stdout+stderr of ONE test process
//     run with -test.v=test2json. Emits test2json events, tracks which tests
//     started and finished and, on [ProcessConverter.Finish], synthesizes
//     fail events for tests that were running when the process died and
//     reports the requested top-level tests that never started.
//   - [Merger]: one per package. Owns any number of process converters
//     (batches) and emits one start event, the batches' test events, the
//     package output kept once, the summary line and the terminal event.
//   - [Sequencer]: orders the merged streams of several packages the way
//     go test does (start events in package order; optionally each package
//     as one contiguous block).
//   - [Decoder]: reads a `go test -json` stream back into events.
//   - [RawOutput]: rebuilds a package's test-binary output from its go
//     test -json events (godist's go test path), for a ProcessConverter.
//
// Wiring, for each package in go test's order:
//
//	seq := collector.NewSequencer(pkgs, collector.Streaming, write) // Ordered for text mode
//	m := collector.NewMerger(pkg, nil, seq.Emit)
//	m.Start()                                  // when the package's first process starts
//	for each batch (possibly concurrently):
//		c := m.NewProcess(tests, true)         // hold: whole tests, abortable
//		io.Copy(c, processOutput)              // combined stdout+stderr
//		r := c.Finish(exitCode, "")            // or c.Abort("worker gw1 lost")
//		requeue(r.Requeue)
//	m.Finish()                                 // after the last batch, requeues included
//	seq.Flush()                                // at the very end
//
// Packages without test files call NoTestFiles, packages that do not build
// BuildFailed (or SetupFailed) instead.
//
// A ProcessConverter is used by one goroutine at a time. Merger and
// Sequencer are safe for concurrent use; they call their emit callbacks with
// an internal lock held, so a callback must not call back into them.
package collector
