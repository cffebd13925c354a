package collector

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// SplitParent says that top-level test name runs in parts processes, each
// running some of its subtests (godist's splitting below the top level).
// The merger then reports it as one test, as one process would have: one
// run event, every part's subtests under it, the parent's own output once,
// and one result — fail if any part failed, skip if all skipped — with an
// Elapsed that adds up the parts' work. Call it before the parts' processes
// start. A part that never comes (given up) leaves the test to Finish,
// which reports the parts that came. order, if known, is the order its
// direct subtests run in one process; their events follow it.
func (m *Merger) SplitParent(name string, parts int, order []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.splits == nil {
		m.splits = map[string]int{}
		m.splitBlocks = map[string][][]Event{}
		m.splitOrder = map[string][]string{}
	}
	m.splits[name] = parts
	m.splitOrder[name] = order
}

// collectPartLocked keeps one part's block of a split test; the last part
// releases the whole test. It reports whether top is split.
func (m *Merger) collectPartLocked(top string, block []Event) bool {
	n := m.splits[top]
	if n == 0 {
		return false
	}
	m.splitBlocks[top] = append(m.splitBlocks[top], block)
	if len(m.splitBlocks[top]) >= n {
		m.emitSplitLocked(top)
	}
	return true
}

// flushSplitsLocked releases split tests some of whose parts never came.
func (m *Merger) flushSplitsLocked() {
	for top, blocks := range m.splitBlocks {
		if len(blocks) > 0 {
			m.emitSplitLocked(top)
		}
	}
}

func (m *Merger) emitSplitLocked(top string) {
	blocks := m.splitBlocks[top]
	delete(m.splitBlocks, top)
	delete(m.splits, top)
	var out []Event
	ran := false
	seen := map[string]bool{} // the parent's own output, which every part repeats
	var elapsed float64
	action, results, skips := "pass", 0, 0
	// Each part ran on its own worker: the parent's worker attribute lists
	// them all, and each direct subtest gets its part's.
	var workers []string
	runAt := -1
	for _, block := range blocks {
		worker := ""
		for _, e := range block {
			if e.Test == top && e.Action == "attr" && e.Key == WorkerAttr {
				worker = e.Value
			}
		}
		if worker != "" && !slices.Contains(workers, worker) {
			workers = append(workers, worker)
		}
		for _, e := range block {
			if e.Test != top {
				out = append(out, e)
				if rest, ok := strings.CutPrefix(e.Test, top+"/"); ok && worker != "" && !strings.Contains(rest, "/") && e.Action == "output" && e.Output == "=== RUN   "+e.Test+"\n" {
					out = append(out, workerAttr(e, worker)...)
				}
				continue
			}
			switch e.Action {
			case "run":
				if !ran {
					ran = true
					runAt = len(out)
					out = append(out, e)
				}
				continue
			case "attr":
				if e.Key == WorkerAttr {
					continue
				}
			case "pass", "fail", "skip":
				results++
				if e.Elapsed != nil {
					elapsed += *e.Elapsed
				}
				switch e.Action {
				case "fail":
					action = "fail"
				case "skip":
					skips++
				}
				continue
			case "output":
				line := strings.TrimLeft(e.Output, " ")
				if isResultLine(line, top) || strings.HasPrefix(line, strings.TrimSuffix(workerAttrLine(top, ""), "\n")) {
					continue
				}
			}
			key := e.Action + "\x00" + e.Output
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, e)
		}
	}
	if results > 0 && skips == results {
		action = "skip"
	}
	if runAt >= 0 && len(workers) > 0 {
		at := runAt + 1 // after the === RUN line
		if at < len(out) && out[at].Test == top && out[at].Output == "=== RUN   "+top+"\n" {
			at++
		}
		out = slices.Insert(out, at, workerAttr(out[runAt], strings.Join(workers, ","))...)
	}
	sortBySubtest(out, top, m.splitOrder[top])
	delete(m.splitOrder, top)
	for _, e := range out {
		m.emitLocked(e)
	}
	verdict := map[string]string{"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[action]
	m.send(Event{Action: "output", Test: top, Output: fmt.Sprintf("--- %s: %s (%.2fs)\n", verdict, top, elapsed)})
	secs := elapsed
	m.send(Event{Action: action, Test: top, Elapsed: &secs})
}

// isResultLine reports a test's own "--- PASS: name (…)" line.
func isResultLine(line, name string) bool {
	for _, v := range []string{"--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if strings.HasPrefix(line, v+name+" (") {
			return true
		}
	}
	return false
}

// sortBySubtest orders a split test's events by its direct subtests' run
// order: the parent's own events first, each subtest's events together,
// subtests the order does not know after the known ones.
func sortBySubtest(events []Event, top string, order []string) {
	if len(order) == 0 {
		return
	}
	rank := map[string]int{}
	for i, n := range order {
		rank[n] = i
	}
	key := func(e Event) int {
		rest, ok := strings.CutPrefix(e.Test, top+"/")
		if !ok {
			return -1
		}
		sub, _, _ := strings.Cut(rest, "/")
		if r, ok := rank[sub]; ok {
			return r
		}
		return len(order)
	}
	slices.SortStableFunc(events, func(a, b Event) int { return cmp.Compare(key(a), key(b)) })
}

// workerAttr returns the events that say e's test ran on worker: an attr
// event and its "=== ATTR" output line.
func workerAttr(e Event, worker string) []Event {
	attr, line := e, e
	attr.Action, attr.Output, attr.Key, attr.Value = "attr", "", WorkerAttr, worker
	line.Action, line.Output = "output", workerAttrLine(e.Test, worker)
	return []Event{attr, line}
}
