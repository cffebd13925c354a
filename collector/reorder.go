package collector

import (
	"slices"
	"strings"
	"sync"
)

// Reorderer puts each package's top-level tests back in the order one
// process of its test binary would have run them, for go test's text
// output: batches of one package run concurrently, so their tests arrive in
// the order they finished. It streams: a test's events pass on as they
// come when every test before it in run order is done (go test -v's
// "=== RUN" of the head package's running test shows when it starts);
// a test that finished ahead of its turn is held until the tests before
// it are done, and then passes on whole. What is still held at the
// package's terminal event passes on then, in run order. Events of
// packages not in its order map, and build events, pass through at once.
//
// Package-level output before the first test stays first, output after the
// last test stays last, and output between tests (a crash's trace, say)
// stays after the test it followed. With -count=N the k-th run of every
// test comes after the (k-1)-th run of all of them, as in go test; only
// the first round streams, later rounds (and reruns) pass on at the
// package's end.
//
// Reorderer is safe for concurrent use; emit is called with its lock held.
type Reorderer struct {
	mu      sync.Mutex
	order   map[string]map[string][]int // package -> top-level name -> positions in run order
	size    map[string]int              // package -> number of functions in run order
	streams map[string]*pkgOrder
	emit    func(Event)
}

// Keys order a package's events: a test's key is its position in run
// order, plus runStride for each earlier run of the same name. Keys are
// int64: the ends must not overflow a 32-bit int.
const (
	keyFirst  int64 = -1 << 62
	keyLast   int64 = 1 << 62
	runStride int64 = 1 << 24 // apart from one -count round to the next
)

// pkgOrder is the state of one package's stream.
type pkgOrder struct {
	runs    map[string]int   // top-level name -> runs seen so far
	current map[string]int64 // top-level name -> key of its current run
	unknown map[string]int   // names not in the order, by first appearance
	key     int64            // key of the last test event seen (keyFirst before any)
	cursor  int64            // the first test in run order not done: its events stream (size: all done)
	done    map[int64]bool   // keys of first-round tests that ended
	held    []heldEvent      // events waiting for the tests before them
}

type heldEvent struct {
	e   Event
	key int64
}

// NewReorderer returns a Reorderer for the packages in order: import path ->
// top-level function names in the order the test binary runs them (a name
// defined in both the package and its _test package appears twice).
func NewReorderer(order map[string][]string, emit func(Event)) *Reorderer {
	r := &Reorderer{
		order:   map[string]map[string][]int{},
		size:    map[string]int{},
		streams: map[string]*pkgOrder{},
		emit:    emit,
	}
	for pkg, names := range order {
		pos := map[string][]int{}
		for i, n := range names {
			pos[n] = append(pos[n], i)
		}
		r.order[pkg] = pos
		r.size[pkg] = len(names)
	}
	return r
}

// Emit takes one event.
func (r *Reorderer) Emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.order[e.Package]; !ok || e.Package == "" {
		r.emit(e)
		return
	}
	st := r.streams[e.Package]
	if st == nil {
		st = &pkgOrder{runs: map[string]int{}, current: map[string]int64{}, unknown: map[string]int{},
			key: keyFirst, done: map[int64]bool{}}
		r.streams[e.Package] = st
	}
	if e.IsPackageEnd() {
		r.release(st.held, true)
		r.emit(e)
		delete(r.streams, e.Package)
		return
	}
	key := r.keyOf(e, st)
	size := int64(r.size[e.Package])
	if key == keyFirst || key <= st.cursor && key < size {
		r.emit(e) // its turn: the tests before it are done
	} else {
		st.held = append(st.held, heldEvent{e, key})
	}
	top, _, _ := strings.Cut(e.Test, "/")
	if e.Test != "" && top == e.Test && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") && key < size {
		st.done[key] = true
		for st.cursor < size && st.done[st.cursor] {
			st.cursor++ // at size, all first-round tests are done
		}
		var keep, out []heldEvent
		for _, h := range st.held {
			if h.key <= st.cursor && h.key < size {
				out = append(out, h)
			} else {
				keep = append(keep, h)
			}
		}
		st.held = keep
		r.release(out, false)
	}
}

// keyOf returns e's key, as the events of st so far place it.
func (r *Reorderer) keyOf(e Event, st *pkgOrder) int64 {
	if e.Test == "" {
		return st.key // before the first test: first; else after the test it followed
	}
	top, _, _ := strings.Cut(e.Test, "/")
	if e.Action == "run" && top == e.Test {
		k := st.runs[top]
		st.runs[top]++
		p := r.order[e.Package][top]
		var at int64
		if len(p) == 0 {
			u, ok := st.unknown[top]
			if !ok {
				u = len(st.unknown)
				st.unknown[top] = u
			}
			at = int64(r.size[e.Package] + u) // after the first round's known tests: waits for the end
		} else {
			at = int64(p[k%len(p)]) + int64(k/len(p))*runStride
		}
		st.current[top] = at
	}
	if k, ok := st.current[top]; ok {
		st.key = k
	}
	return st.key
}

// release passes held events on in key order (stable: arrival order within
// a key). At the package's end, package-level output after the last held
// test event is the package's trailer and goes last.
func (r *Reorderer) release(held []heldEvent, end bool) {
	if end {
		lastTest := -1
		for i, h := range held {
			if h.e.Test != "" {
				lastTest = i
			}
		}
		for i := lastTest + 1; i < len(held); i++ {
			held[i].key = keyLast
		}
	}
	slices.SortStableFunc(held, func(a, b heldEvent) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	for _, h := range held {
		r.emit(h.e)
	}
}

// Flush passes on what is still held, unsorted: for packages that never
// ended.
func (r *Reorderer) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pkg, st := range r.streams {
		for _, h := range st.held {
			r.emit(h.e)
		}
		delete(r.streams, pkg)
	}
}
