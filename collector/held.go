package collector

import (
	"bufio"
	"encoding/gob"
	"os"
	"runtime"
)

// holdSpillAt is how many bytes of output a held block keeps in memory.
const holdSpillAt = 8 << 20

// heldBlock is one top-level test's events held back until the test ends
// (Merger.NewProcess with hold): in memory up to holdSpillAt bytes of
// output, then in a temporary file as JSON lines, so a test that prints
// gigabytes costs disk, not memory. Should the file fail (no space), the
// rest stays in memory.
type heldBlock struct {
	mem    []Event // after the file's events
	size   int     // output bytes in mem
	file   *os.File
	w      *bufio.Writer
	enc    *gob.Encoder
	failed bool // the file could not be made or written: memory only
}

func (h *heldBlock) add(e Event) {
	if h.file == nil && !h.failed && h.size+len(e.Output) > holdSpillAt {
		h.spill()
	}
	if h.file != nil && !h.failed {
		if h.write(e) == nil {
			return
		}
		h.failed = true // the file's events go first, then memory's
	}
	h.mem = append(h.mem, e)
	h.size += len(e.Output)
}

func (h *heldBlock) write(e Event) error { return h.enc.Encode(&e) }

// spill moves the events in memory to a new temporary file.
func (h *heldBlock) spill() {
	f, err := os.CreateTemp("", "godist-held-*")
	if err != nil {
		h.failed = true
		return
	}
	if runtime.GOOS != "windows" {
		os.Remove(f.Name()) // gone with the descriptor, however we end
	}
	h.file, h.w = f, bufio.NewWriterSize(f, 64<<10)
	h.enc = gob.NewEncoder(h.w)
	for _, e := range h.mem {
		if h.write(e) != nil {
			h.drop()
			h.failed = true
			return
		}
	}
	h.mem, h.size = nil, 0
}

// each calls fn on the held events in order, then lets them go.
func (h *heldBlock) each(fn func(Event)) {
	if h.file != nil {
		f := h.file
		err := h.w.Flush()
		h.file, h.w, h.enc = nil, nil, nil
		if err == nil {
			_, err = f.Seek(0, 0)
		}
		if err == nil {
			dec := gob.NewDecoder(bufio.NewReaderSize(f, 64<<10))
			for {
				var e Event
				if dec.Decode(&e) != nil {
					break
				}
				fn(e)
			}
		}
		closeTemp(f)
	}
	for _, e := range h.mem {
		fn(e)
	}
	h.mem, h.size = nil, 0
}

// all returns the held events in one slice, and lets them go.
func (h *heldBlock) all() []Event {
	var out []Event
	h.each(func(e Event) { out = append(out, e) })
	return out
}

// drop lets the held events go unemitted.
func (h *heldBlock) drop() {
	if h.file != nil {
		closeTemp(h.file)
		h.file, h.w, h.enc = nil, nil, nil
	}
	h.mem, h.size = nil, 0
}

func closeTemp(f *os.File) {
	f.Close()
	if runtime.GOOS == "windows" {
		os.Remove(f.Name())
	}
}
