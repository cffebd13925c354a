package collector

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Buffer sizes, as in cmd/internal/test2json: an input line longer than
// inputBufSize cannot be a framing line and is passed on in pieces; output
// events carry at most outputBufSize bytes. Variables so tests can shrink
// them.
var (
	inputBufSize  = 4096
	outputBufSize = 1024
)

// frameMarker (^V) starts every framing line a test binary prints under
// -test.v=test2json. It also ends a preceding line that lacked a newline.
const frameMarker = byte(0x16)

// lineSplitter calls whole for every complete line (with its newline, if
// any) that fits in its buffer and piece for the parts of longer lines, cut
// at UTF-8 boundaries. A ^V that does not start the buffer ends the current
// line without being consumed, so unterminated test output is separated
// from the framing line that follows it.
type lineSplitter struct {
	buf     []byte
	scanned int  // bytes at the start of buf known to hold no line end
	long    bool // inside a line already passed on in pieces
	whole   func([]byte)
	piece   func([]byte)
}

func newLineSplitter(size int, whole, piece func([]byte)) lineSplitter {
	return lineSplitter{buf: make([]byte, 0, size), whole: whole, piece: piece}
}

func (l *lineSplitter) write(b []byte) {
	for len(b) > 0 {
		n := copy(l.buf[len(l.buf):cap(l.buf)], b)
		l.buf = l.buf[:len(l.buf)+n]
		b = b[n:]

		done := 0
		for done < len(l.buf) {
			// Only the first line can have been scanned by an earlier write.
			end, width := lineEnd(l.buf[done:], l.scanned, l.long)
			l.scanned = 0
			if end < 0 {
				if !l.long {
					done += l.benchPrefix(l.buf[done:])
				}
				l.scanned = len(l.buf) - done
				break
			}
			stop := done + end + width
			if l.long {
				l.piece(l.buf[done:stop])
				l.long = false
			} else {
				l.whole(l.buf[done:stop])
			}
			done = stop
		}
		if done == 0 && len(l.buf) == cap(l.buf) {
			// No line end in a full buffer: pass a piece on.
			cut := utf8Boundary(l.buf)
			l.piece(l.buf[:cut])
			l.buf = l.buf[:copy(l.buf, l.buf[cut:])]
			l.scanned = 0
			l.long = true
			continue
		}
		if done > 0 {
			l.buf = l.buf[:copy(l.buf, l.buf[done:])]
		}
	}
}

// benchPrefix passes on at once the name column of a benchmark result line
// ("BenchmarkX-8 \t"), so a long-running benchmark shows which one it is,
// like go test. It reports how many bytes it consumed.
func (l *lineSplitter) benchPrefix(b []byte) int {
	if !bytes.HasPrefix(b, []byte("Benchmark")) {
		return 0
	}
	tab := bytes.IndexByte(b, '\t')
	if tab < 0 || !isBenchmarkName(bytes.TrimRight(b[:tab], " ")) {
		return 0
	}
	l.piece(b[:tab+1])
	l.long = true
	return tab + 1
}

// flush passes on an unterminated final line.
func (l *lineSplitter) flush() {
	if len(l.buf) > 0 {
		l.piece(l.buf)
		l.buf = l.buf[:0]
	}
	l.scanned = 0
	l.long = false
}

// lineEnd returns the length of the line at the start of b and the width of
// its terminator (1 for \n, 0 for a following ^V), or -1 if b holds no
// complete line. The first from bytes are known to hold no line end. In
// the middle of a long line (cont), a ^V at the start of b ends it too.
func lineEnd(b []byte, from int, cont bool) (end, width int) {
	for i := from; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\n':
			return i, 1
		case c == frameMarker && (i > 0 || cont):
			return i, 0
		}
	}
	return -1, 0
}

func isBenchmarkName(b []byte) bool {
	rest, ok := bytes.CutPrefix(b, []byte("Benchmark"))
	if !ok {
		return false
	}
	if len(rest) == 0 {
		return true
	}
	r, _ := utf8.DecodeRune(rest)
	return !unicode.IsLower(r)
}

// utf8Boundary returns the largest n <= len(b) such that b[:n] does not end
// inside a UTF-8 sequence that the following bytes could complete.
func utf8Boundary(b []byte) int {
	for back := 1; back <= utf8.UTFMax && back <= len(b); back++ {
		c := b[len(b)-back]
		if !utf8.RuneStart(c) {
			continue
		}
		need := 1
		switch {
		case c&0xe0 == 0xc0:
			need = 2
		case c&0xf0 == 0xe0:
			need = 3
		case c&0xf8 == 0xf0:
			need = 4
		}
		if need > back {
			return len(b) - back
		}
		return len(b)
	}
	return len(b)
}
