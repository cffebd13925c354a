package collector

import (
	"fmt"
	"slices"
	"strings"
)

// MergeStreams combines the `go test -json` streams of several runs over
// disjoint parts of one suite (CI shards, `godist --shard I/N`) into one
// stream shaped as if one run had done everything: per package one start
// event, every shard's test events, one summary line and one terminal
// event. A package fails if it failed in any shard; its Elapsed is the
// longest shard's. Identical build events are kept once. Packages come
// sorted by import path, as go test lists them; within a package, shard by
// shard.
func MergeStreams(streams [][]Event) []Event {
	type pkgState struct {
		events      []Event // test events and kept package output
		started     bool
		firstStart  Event
		results     []Event // each shard's terminal event
		noTests     int     // shards that said [no tests to run]
		failedBuild string
		buildLine   string // "FAIL\tpkg [build failed]" or [setup failed]
		coverage    string
	}
	var order []string
	pkgs := map[string]*pkgState{}
	state := func(pkg string) *pkgState {
		p := pkgs[pkg]
		if p == nil {
			p = &pkgState{}
			pkgs[pkg] = p
			order = append(order, pkg)
		}
		return p
	}
	var out []Event
	seenBuild := map[string]bool{}
	for _, stream := range streams {
		for _, e := range stream {
			if e.Package == "" {
				// Build events: every shard that built the package printed them.
				key := e.ImportPath + "\x00" + e.Action + "\x00" + e.Output
				if !seenBuild[key] {
					seenBuild[key] = true
					out = append(out, e)
				}
				continue
			}
			p := state(e.Package)
			switch {
			case e.Action == "start" && e.Test == "":
				if !p.started {
					p.started, p.firstStart = true, e
				}
			case e.IsPackageEnd():
				p.results = append(p.results, e)
				if e.FailedBuild != "" {
					p.failedBuild = e.FailedBuild
				}
			case e.Action == "output" && e.Test == "":
				line := e.Output
				switch {
				case strings.HasSuffix(line, "[no tests to run]\n"):
					p.noTests++
				case strings.HasPrefix(line, "FAIL\t"+e.Package+" ["):
					p.buildLine = line
				case strings.HasPrefix(line, "ok  \t"), strings.HasPrefix(line, "FAIL\t"), strings.HasPrefix(line, "?   \t"):
					if i := strings.Index(line, "coverage: "); i >= 0 {
						p.coverage = strings.TrimSpace(line[i:])
					}
				case IsProcessNoise(line):
				default:
					p.events = append(p.events, e)
				}
			default:
				p.events = append(p.events, e)
			}
		}
	}
	// go test lists packages sorted by import path; so does the merge.
	slices.Sort(order)
	for _, pkg := range order {
		p := pkgs[pkg]
		start := p.firstStart
		if !p.started {
			start = Event{Action: "start", Package: pkg}
		}
		out = append(out, start)
		out = append(out, p.events...)
		var elapsed float64
		action := "pass"
		skips := 0
		var last Event
		for _, r := range p.results {
			last = r
			if r.Elapsed != nil && *r.Elapsed > elapsed {
				elapsed = *r.Elapsed
			}
			switch r.Action {
			case "fail":
				action = "fail"
			case "skip":
				skips++
			}
		}
		if len(p.results) > 0 && skips == len(p.results) {
			action = "skip"
		}
		summary := ""
		switch {
		case p.failedBuild != "" || p.buildLine != "":
			summary = p.buildLine
			if summary == "" {
				summary = "FAIL\t" + pkg + " [build failed]\n"
			}
			action = "fail"
		case action == "skip":
			summary = "?   \t" + pkg + "\t[no test files]\n"
		case action == "fail":
			out = append(out, Event{Time: last.Time, Action: "output", Package: pkg, Output: "FAIL\n"})
			summary = fmt.Sprintf("FAIL\t%s\t%.3fs\n", pkg, elapsed)
		default:
			cov, norun := "", ""
			if p.coverage != "" {
				cov = "\t" + p.coverage
			}
			if p.noTests == len(p.results) && len(p.results) > 0 {
				norun = " [no tests to run]"
			}
			summary = fmt.Sprintf("ok  \t%s\t%.3fs%s%s\n", pkg, elapsed, cov, norun)
		}
		out = append(out, Event{Time: last.Time, Action: "output", Package: pkg, Output: summary})
		end := Event{Time: last.Time, Action: action, Package: pkg, Elapsed: &elapsed, FailedBuild: p.failedBuild}
		out = append(out, end)
	}
	return out
}
