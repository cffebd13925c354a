package report

import (
	"bytes"
	"io"
	"os"
	"runtime"
)

// spillAt is how much of a package's text a spillBuffer holds in memory.
const spillAt = 8 << 20

// spillBuffer holds a package's text until the package ends (text mode
// without -v prints each package as one block): in memory up to spillAt
// bytes, then in a temporary file, so a test that prints gigabytes costs
// disk, not memory. Should the file fail (no space), the rest stays in
// memory.
type spillBuffer struct {
	mem    bytes.Buffer // after the file's part
	file   *os.File
	failed bool // the file could not be made or written: the rest in memory
}

func (b *spillBuffer) WriteString(s string) {
	if b.file == nil && !b.failed && b.mem.Len()+len(s) > spillAt {
		b.spill()
	}
	if b.file != nil && !b.failed {
		if _, err := b.file.WriteString(s); err == nil {
			return
		}
		// What the file holds is printed first; the failed write may
		// have left part of s there: the rest goes to memory whole, a
		// repeat rather than a gap.
		b.failed = true
	}
	b.mem.WriteString(s)
}

// spill moves what is in memory to a new temporary file.
func (b *spillBuffer) spill() {
	f, err := os.CreateTemp("", "godist-text-*")
	if err != nil {
		b.failed = true
		return
	}
	if runtime.GOOS != "windows" {
		os.Remove(f.Name()) // gone with the descriptor, however we end
	}
	if _, err := f.Write(b.mem.Bytes()); err != nil {
		closeTemp(f)
		b.failed = true
		return
	}
	b.file = f
	b.mem = bytes.Buffer{}
}

// WriteTo writes the text out, the file's part first, and lets it go.
func (b *spillBuffer) WriteTo(w io.Writer) (int64, error) {
	var n int64
	if b.file != nil {
		f := b.file
		b.file = nil
		defer closeTemp(f)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return n, err
		}
		m, err := io.Copy(w, f)
		n += m
		if err != nil {
			return n, err
		}
	}
	m, err := b.mem.WriteTo(w)
	return n + m, err
}

// Discard lets the text go unprinted.
func (b *spillBuffer) Discard() {
	if b.file != nil {
		closeTemp(b.file)
		b.file = nil
	}
	b.mem = bytes.Buffer{}
}

func closeTemp(f *os.File) {
	f.Close()
	if runtime.GOOS == "windows" {
		os.Remove(f.Name())
	}
}
