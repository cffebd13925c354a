package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/report"
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
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: godist merge [-json|-v|--format NAME] [--jsonfile F] [--junitfile F] FILE...")
		return report.ExitUsage
	}
	var streams [][]collector.Event
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "godist merge: %v\n", err)
			return report.ExitUsage
		}
		events, err := collector.ReadEvents(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "godist merge: %s: %v\n", name, err)
			return report.ExitUsage
		}
		streams = append(streams, events)
	}
	if err := scheduler.CheckShards(files, streams); err != nil {
		fmt.Fprintf(stderr, "godist merge: %v\n", err)
		return report.ExitUsage
	}
	for i, evs := range streams {
		streams[i] = slices.DeleteFunc(evs, collector.IsShardManifest)
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
	if *histFile != "" {
		err = errors.Join(err, recordHistory(*histFile, merged, stderr))
	}
	if err != nil {
		fmt.Fprintf(stderr, "godist merge: %v\n", err)
	}
	return report.ExitCode(err, out.Status)
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
