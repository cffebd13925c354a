package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/queue"
	"github.com/godist/godist/report"
	"github.com/godist/godist/run"
	"github.com/godist/godist/scheduler"
)

// runMerge is `godist merge FILE...`: the -json streams of CI shards
// (`godist --shard I/N -json`, or go test -json runs over disjoint
// packages) combined into one stream and reported like one run: go test's
// text by default, -json, a gotestsum --format, --jsonfile, --junitfile;
// the exit status is the combined run's.
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("godist merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the merged go test -json stream")
	verbose := fs.Bool("v", false, "print go test -v text")
	format := fs.String("format", "", "a gotestsum format name")
	jsonFile := fs.String("jsonfile", "", "also write the merged JSON stream to this file")
	junitFile := fs.String("junitfile", "", "also write JUnit XML to this file")
	histFile := fs.String("history", "", "record the merged run's test durations in this history file")
	queueURL := fs.String("queue", "", "merge the results of the --queue run at this URL (redis://HOST:PORT/RUN) instead of files")
	wait := fs.Duration("wait", 30*time.Minute, "with --queue, how long to wait for every unit's result")
	// Flags may follow the files, as on godist's own command line.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return report.ExitUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			files = append(files, args[1:]...)
			break
		}
		files = append(files, args[0])
		args = args[1:]
	}
	var streams [][]collector.Event
	var incomplete error
	switch {
	case *queueURL != "" && len(files) > 0:
		fmt.Fprintln(stderr, "godist merge: --queue reads the run from the queue; give no files")
		return report.ExitUsage
	case *queueURL != "":
		var code int
		streams, incomplete, code = queueStreams(*queueURL, *wait, stderr)
		if code != 0 {
			return code
		}
	case len(files) == 0:
		fmt.Fprintln(stderr, "usage: godist merge [-json|-v|--format NAME] [--jsonfile F] [--junitfile F] [--history F] FILE... | --queue URL [--wait D]")
		return report.ExitUsage
	default:
		var code int
		if streams, code = fileStreams(files, stderr); code != 0 {
			return code
		}
	}
	out, err := report.Open(report.Outputs{JSON: *asJSON, Format: *format, Verbose: *verbose,
		JSONFile: *jsonFile, JUnitFile: *junitFile}, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "godist merge: %v\n", err)
		return report.ExitCode(err, nil)
	}
	merged := collector.MergeStreams(streams)
	for _, e := range merged {
		if err = out.Event(e); err != nil {
			break
		}
	}
	err = errors.Join(err, out.Close())
	if *histFile != "" && incomplete == nil {
		err = errors.Join(err, recordHistory(*histFile, merged, stderr))
	}
	if err != nil {
		fmt.Fprintf(stderr, "godist merge: %v\n", err)
	}
	if incomplete != nil {
		fmt.Fprintf(stderr, "godist merge: %v\n", incomplete)
		return report.ExitFailed
	}
	return report.ExitCode(err, out.Status)
}

// fileStreams reads the -json streams of shards, checked to be one whole
// run, their manifests removed.
func fileStreams(files []string, stderr io.Writer) ([][]collector.Event, int) {
	var streams [][]collector.Event
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "godist merge: %v\n", err)
			return nil, report.ExitUsage
		}
		events, err := collector.ReadEvents(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "godist merge: %s: %v\n", name, err)
			return nil, report.ExitUsage
		}
		streams = append(streams, events)
	}
	if err := scheduler.CheckShards(files, streams); err != nil {
		fmt.Fprintf(stderr, "godist merge: %v\n", err)
		return nil, report.ExitUsage
	}
	for i, evs := range streams {
		streams[i] = slices.DeleteFunc(evs, collector.IsShardManifest)
	}
	return streams, 0
}

// queueStreams waits up to wait for every unit of the --queue run at url
// to have a result and returns the results' streams in plan order. When
// some never came, incomplete names them and the streams are what did.
func queueStreams(url string, wait time.Duration, stderr io.Writer) (streams [][]collector.Event, incomplete error, code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	q, err := queue.Open(ctx, url, queue.Options{PasswordEnv: run.QueuePasswordEnv})
	if err != nil {
		fmt.Fprintf(stderr, "godist merge: --queue: %v\n", err)
		if errors.Is(err, queue.ErrBadURL) {
			return nil, nil, report.ExitUsage
		}
		return nil, nil, report.ExitFailed
	}
	defer q.Close()
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	if err := q.Wait(ctx, deadline); err != nil {
		var ie *queue.IncompleteError
		if !errors.As(err, &ie) {
			fmt.Fprintf(stderr, "godist merge: --queue: %v\n", err)
			return nil, nil, report.ExitFailed
		}
		incomplete = err
	}
	for res, err := range q.Results(ctx) {
		if err != nil {
			fmt.Fprintf(stderr, "godist merge: --queue: %v\n", err)
			return nil, nil, report.ExitFailed
		}
		if !res.Done {
			continue
		}
		events, err := collector.ReadEvents(bytes.NewReader(res.Data))
		if err != nil {
			fmt.Fprintf(stderr, "godist merge: --queue: the result of unit %s (by %s): %v\n", res.ID, res.By, err)
			return nil, nil, report.ExitFailed
		}
		streams = append(streams, events)
	}
	return streams, incomplete, 0
}

// recordHistory adds the durations of a merged run to a history file, so
// that the next sharded run splits by them.
func recordHistory(path string, events []collector.Event, stderr io.Writer) error {
	hist, err := scheduler.LoadHistory(path)
	var bad *scheduler.BadHistoryError
	switch {
	case errors.As(err, &bad):
		// As a run does: what could be kept is kept, the bad file is set
		// aside, and the merge records its durations anyway.
		if aside, serr := bad.SetAside(); serr == nil {
			fmt.Fprintf(stderr, "godist merge: duration history: %v; the file is kept as %s\n", bad, aside)
		} else {
			fmt.Fprintf(stderr, "godist merge: duration history: %v\n", bad)
		}
	case err != nil:
		return err
	}
	byPkg := map[string][]collector.Event{}
	for _, e := range events {
		if e.Test != "" {
			byPkg[e.Package] = append(byPkg[e.Package], e)
		}
	}
	for pkg, evs := range byPkg {
		res := scheduler.ResultFromEvents(time.Time{}, evs)
		res.Startup = 0
		hist.Record(pkg, res)
	}
	return hist.Save()
}
