package collector

import (
	"slices"
	"strings"
	"sync"
)

// Reorderer puts each package's top-level tests back in the order one
// process of its test binary would have run them, for go test's text
// output: batches of one package run concurrently, so their tests arrive in
// the order they finished. It holds a package's events until the package's
// terminal event and then passes them on, reordered; events of packages not
// in its order map, and build events, pass through at once.
//
// Package-level output before the first test stays first, output after the
// last test stays last, and output between tests (a crash's trace, say)
// stays after the test it followed. With -count=N the k-th run of every
// test comes after the (k-1)-th run of all of them, as in go test.
//
// Reorderer is safe for concurrent use; emit is called with its lock held.
type Reorderer struct {
	mu      sync.Mutex
	order   map[string]map[string][]int // package -> top-level name -> positions in run order
	size    map[string]int              // package -> number of functions in run order
	pending map[string][]Event
	emit    func(Event)
}

// NewReorderer returns a Reorderer for the packages in order: import path ->
// top-level function names in the order the test binary runs them (a name
// defined in both the package and its _test package appears twice).
func NewReorderer(order map[string][]string, emit func(Event)) *Reorderer {
	r := &Reorderer{
		order:   map[string]map[string][]int{},
		size:    map[string]int{},
		pending: map[string][]Event{},
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
	r.pending[e.Package] = append(r.pending[e.Package], e)
	if e.IsPackageEnd() {
		events := r.pending[e.Package]
		delete(r.pending, e.Package)
		for _, ev := range r.sorted(e.Package, events) {
			r.emit(ev)
		}
	}
}

// Flush passes on what is still held, unsorted: for packages that never
// ended.
func (r *Reorderer) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pkg, events := range r.pending {
		for _, e := range events {
			r.emit(e)
		}
		delete(r.pending, pkg)
	}
}

func (r *Reorderer) sorted(pkg string, events []Event) []Event {
	// Keys are int64: the ends must not overflow a 32-bit int.
	const (
		first     int64 = -1 << 62
		last      int64 = 1 << 62
		runStride int64 = 1 << 24 // apart from one -count round to the next
	)
	pos, size := r.order[pkg], r.size[pkg]
	runs := map[string]int{}      // top-level name -> runs seen so far
	current := map[string]int64{} // top-level name -> key of its current run
	unknown := map[string]int{}   // names not in the order, by first appearance
	keys := make([]int64, len(events))
	lastTest := -1
	for i, e := range events {
		if e.Test != "" {
			lastTest = i
		}
	}
	key := first
	for i, e := range events {
		switch {
		case e.Test == "" && i > lastTest:
			keys[i] = last
			continue
		case e.Test == "":
			keys[i] = key // before the first test: first; else after the test it followed
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		if e.Action == "run" && top == e.Test {
			k := runs[top]
			runs[top]++
			p := pos[top]
			var at int64
			if len(p) == 0 {
				u, ok := unknown[top]
				if !ok {
					u = len(unknown)
					unknown[top] = u
				}
				at = int64(size + u)
			} else {
				at = int64(p[k%len(p)]) + int64(k/len(p))*runStride
			}
			current[top] = at
		}
		if k, ok := current[top]; ok {
			key = k
		}
		keys[i] = key
	}
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case keys[a] < keys[b]:
			return -1
		case keys[a] > keys[b]:
			return 1
		}
		return 0
	})
	out := make([]Event, len(events))
	for i, j := range idx {
		out[i] = events[j]
	}
	return out
}
