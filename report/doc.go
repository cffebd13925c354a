// Package report turns godist's merged event stream — one `go test -json`
// shaped [collector.Event] per line — into what the user sees:
//
//   - [NewText]: exactly the text `go test` prints, with or without -v,
//     rebuilt from the events of binaries that always ran with
//     -test.v=test2json (see text.go for how non-chatty output is derived);
//   - [NewJSON]: the stream itself, byte-compatible with `go test -json`;
//   - [NewFormat]: gotestsum's formats (testname, dots, pkgname, …) rendered
//     by gotest.tools/gotestsum/testjson, and [NewSummary], gotestsum's
//     end-of-run summary;
//   - [Tee]: several renderers at once (e.g. text on the terminal and JSON
//     to a file);
//   - [Status] and [ExitCode]: go test's exit status (0, 1, 2).
//
// Every renderer implements [Renderer]: call Event for each event in stream
// order, then Close once. Renderers are not safe for concurrent use.
//
// Goroutines: only the renderers of [NewFormat],
// [NewSummary] and [NewJUnit] start one each, in the constructor, to run
// testjson.ScanTestOutput over an in-memory pipe; their Close ends the pipe
// and waits for that goroutine, so Close must be called. Text, JSON, Tee
// and Status start none.
package report
