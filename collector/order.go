package collector

import (
	"sync"
)

// OrderMode selects how a [Sequencer] orders the streams of packages.
type OrderMode int

const (
	// Streaming passes events on as they come, like go test -json, except
	// that packages' start events are held back to go in package order.
	Streaming OrderMode = iota
	// Ordered passes each package's events on as one contiguous block, in
	// package order, as go test prints packages in text mode: later
	// packages are buffered until the earlier ones end.
	Ordered
)

// Sequencer orders the merged event streams of several packages. Build
// events and events of packages not in its list pass through at once. It is safe for concurrent
// use; emit is called with its lock held.
type Sequencer struct {
	mu    sync.Mutex
	mode  OrderMode
	emit  func(Event)
	index map[string]int
	buf   [][]Event
	ended []bool
	front int // Streaming: packages whose start went out; Ordered: the package flowing
}

// NewSequencer returns a sequencer for pkgs, given in go test's order.
func NewSequencer(pkgs []string, mode OrderMode, emit func(Event)) *Sequencer {
	s := &Sequencer{
		mode:  mode,
		emit:  emit,
		index: make(map[string]int, len(pkgs)),
		buf:   make([][]Event, len(pkgs)),
		ended: make([]bool, len(pkgs)),
	}
	for i, p := range pkgs {
		if _, dup := s.index[p]; !dup {
			s.index[p] = i
		}
	}
	return s
}

// packageOf returns the index of e's package, or -1 for events that pass
// at once: those of unknown packages and build events (go test prints
// build output as builds fail, whatever the package order; they always
// precede their package's start because the Merger emits them first).
func (s *Sequencer) packageOf(e Event) int {
	if i, ok := s.index[e.Package]; ok && e.Package != "" {
		return i
	}
	return -1
}

// Emit takes one event of any package.
func (s *Sequencer) Emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.packageOf(e)
	if i < 0 {
		s.emit(e)
		return
	}
	if s.mode == Ordered {
		s.ordered(i, e)
		return
	}
	switch {
	case i < s.front:
		s.emit(e)
	case i == s.front && e.Action == "start":
		s.buf[i] = append(s.buf[i], e)
		s.drainStarted()
	default:
		s.buf[i] = append(s.buf[i], e)
	}
}

// drainStarted releases buffered packages at the front whose start event
// has arrived.
func (s *Sequencer) drainStarted() {
	for s.front < len(s.buf) && hasStart(s.buf[s.front]) {
		for _, e := range s.buf[s.front] {
			s.emit(e)
		}
		s.buf[s.front] = nil
		s.front++
	}
}

func hasStart(events []Event) bool {
	for _, e := range events {
		if e.Action == "start" {
			return true
		}
	}
	return false
}

func (s *Sequencer) ordered(i int, e Event) {
	if e.IsPackageEnd() {
		s.ended[i] = true
	}
	if i != s.front {
		s.buf[i] = append(s.buf[i], e)
		return
	}
	s.emit(e)
	for s.front < len(s.buf) && s.ended[s.front] {
		s.front++
		if s.front < len(s.buf) {
			for _, e := range s.buf[s.front] {
				s.emit(e)
			}
			s.buf[s.front] = nil
		}
	}
}

// Flush passes on everything still buffered, in package order: at the end
// of a run, for packages whose earlier neighbours never ended.
func (s *Sequencer) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.buf {
		for _, e := range s.buf[i] {
			s.emit(e)
		}
		s.buf[i] = nil
	}
	s.front = len(s.buf)
}
