package collector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// packageStream returns a plausible stream for pkg: start, a test, the end.
func packageStream(pkg string, build bool) []Event {
	var s []Event
	if build {
		s = append(s,
			Event{ImportPath: pkg + " [" + pkg + ".test]", Action: "build-output", Output: "# " + pkg + "\n"},
			Event{ImportPath: pkg + " [" + pkg + ".test]", Action: "build-fail"})
	}
	s = append(s, Event{Action: "start", Package: pkg})
	for i := range 3 {
		name := fmt.Sprint("Test", i)
		s = append(s, Event{Action: "run", Package: pkg, Test: name},
			Event{Action: "output", Package: pkg, Test: name, Output: "x\n"},
			Event{Action: "pass", Package: pkg, Test: name})
	}
	return append(s, Event{Action: "output", Package: pkg, Output: "ok\n"}, Event{Action: "pass", Package: pkg})
}

// interleave merges streams in a random order that keeps each stream's order.
func interleave(r *rand.Rand, streams [][]Event) []Event {
	var out []Event
	pos := make([]int, len(streams))
	for {
		var live []int
		for i, s := range streams {
			if pos[i] < len(s) {
				live = append(live, i)
			}
		}
		if len(live) == 0 {
			return out
		}
		i := live[r.IntN(len(live))]
		out = append(out, streams[i][pos[i]])
		pos[i]++
	}
}

func key(e Event) string { return e.Package + e.ImportPath + " " + e.Action + " " + e.Test }

func TestSequencer(t *testing.T) {
	pkgs := []string{"a", "b", "c", "d"}
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var streams [][]Event
		for i, p := range pkgs {
			streams = append(streams, packageStream(p, i == 2))
		}
		streams = append(streams, []Event{{Action: "output", Package: "other", Output: "unknown package\n"}})
		in := interleave(r, streams)
		for _, mode := range []OrderMode{Streaming, Ordered} {
			var out []Event
			s := NewSequencer(pkgs, mode, func(e Event) { out = append(out, e) })
			for _, e := range in {
				s.Emit(e)
			}
			s.Flush()
			if len(out) != len(in) {
				t.Fatalf("round %d mode %d: %d events out, %d in", round, mode, len(out), len(in))
			}
			// Build events pass at once, before their package's start.
			for i, e := range out {
				if e.ImportPath != "" {
					j := slices.IndexFunc(in, func(x Event) bool { return x == e })
					if j < 0 || !slices.ContainsFunc(out[i:], func(x Event) bool { return x.Action == "start" && x.Package == e.ImportPath[:1] }) {
						t.Fatalf("round %d mode %d: build event %+v after its start", round, mode, e)
					}
				}
			}
			// Each package's own order is kept.
			for i, p := range pkgs {
				var got []string
				for _, e := range out {
					if e.Package == p || e.ImportPath == p+" ["+p+".test]" {
						got = append(got, key(e))
					}
				}
				var want []string
				for _, e := range streams[i] {
					want = append(want, key(e))
				}
				if !slices.Equal(got, want) {
					t.Fatalf("round %d mode %d: package %s order %v, want %v", round, mode, p, got, want)
				}
			}
			var starts []string
			for _, e := range out {
				if e.Action == "start" {
					starts = append(starts, e.Package)
				}
			}
			if !slices.Equal(starts, pkgs) {
				t.Fatalf("round %d mode %d: starts %v", round, mode, starts)
			}
			if mode == Ordered {
				var blocks []string
				for _, e := range out {
					p := e.Package
					if p == "" || p == "other" {
						continue
					}
					if len(blocks) == 0 || blocks[len(blocks)-1] != p {
						blocks = append(blocks, p)
					}
				}
				if !slices.Equal(blocks, pkgs) {
					t.Fatalf("round %d: blocks %v, want contiguous %v", round, blocks, pkgs)
				}
			}
		}
	}
}

func TestSequencerStreamingDoesNotWaitForEnds(t *testing.T) {
	var out []string
	s := NewSequencer([]string{"a", "b"}, Streaming, func(e Event) { out = append(out, key(e)) })
	s.Emit(Event{Action: "start", Package: "b"})
	s.Emit(Event{Action: "run", Package: "b", Test: "T"})
	if len(out) != 0 {
		t.Fatalf("b's events went out before a's start: %v", out)
	}
	s.Emit(Event{Action: "start", Package: "a"})
	s.Emit(Event{Action: "pass", Package: "b", Test: "T"})
	want := []string{"a start ", "b start ", "b run T", "b pass T"}
	if !slices.Equal(out, want) {
		t.Errorf("got %v, want %v", out, want)
	}
}
