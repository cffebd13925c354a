package channel

import (
	"errors"
	"fmt"
)

// scanValue walks one msgpack value in chunks without decoding it and
// checks that every length it declares fits in the bytes that are there,
// so decoding afterwards never allocates more than the value's size (the
// msgpack library trusts declared lengths).
func scanValue(chunks [][]byte) error {
	sc := scanner{chunks: chunks}
	for _, c := range chunks {
		sc.left += len(c)
	}
	if err := sc.value(0); err != nil {
		return err
	}
	if sc.left != 0 {
		return fmt.Errorf("%d trailing bytes after value", sc.left)
	}
	return nil
}

type scanner struct {
	chunks [][]byte
	i, off int
	left   int
}

var errShort = errors.New("value truncated")

func (s *scanner) byte() (byte, error) {
	for s.i < len(s.chunks) && s.off >= len(s.chunks[s.i]) {
		s.i, s.off = s.i+1, 0
	}
	if s.i >= len(s.chunks) {
		return 0, errShort
	}
	b := s.chunks[s.i][s.off]
	s.off++
	s.left--
	return b, nil
}

func (s *scanner) uint(n int) (int, error) {
	v := 0
	for range n {
		b, err := s.byte()
		if err != nil {
			return 0, err
		}
		v = v<<8 | int(b)
	}
	return v, nil
}

func (s *scanner) skip(n int) error {
	if n > s.left {
		return fmt.Errorf("length %d exceeds the %d bytes left", n, s.left)
	}
	s.left -= n
	for n > 0 {
		if s.i >= len(s.chunks) {
			return errShort
		}
		k := min(n, len(s.chunks[s.i])-s.off)
		s.off += k
		n -= k
		if s.off >= len(s.chunks[s.i]) {
			s.i, s.off = s.i+1, 0
		}
	}
	return nil
}

func (s *scanner) value(depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("value nested deeper than %d", maxNesting)
	}
	c, err := s.byte()
	if err != nil {
		return err
	}
	n, elems := 0, 0 // bytes to skip, or elements to scan
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return nil
	case c >= 0x80 && c <= 0x8f:
		elems = 2 * int(c&0x0f)
	case c >= 0x90 && c <= 0x9f:
		elems = int(c & 0x0f)
	case c >= 0xa0 && c <= 0xbf:
		n = int(c & 0x1f)
	case c == 0xc4 || c == 0xd9:
		n, err = s.uint(1)
	case c == 0xc5 || c == 0xda:
		n, err = s.uint(2)
	case c == 0xc6 || c == 0xdb:
		n, err = s.uint(4)
	case c == 0xc7:
		n, err = s.uint(1)
		n++
	case c == 0xc8:
		n, err = s.uint(2)
		n++
	case c == 0xc9:
		n, err = s.uint(4)
		n++
	case c == 0xca:
		n = 4
	case c == 0xcb:
		n = 8
	case c == 0xcc || c == 0xd0:
		n = 1
	case c == 0xcd || c == 0xd1:
		n = 2
	case c == 0xce || c == 0xd2:
		n = 4
	case c == 0xcf || c == 0xd3:
		n = 8
	case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16 + type byte
		n = 1 + 1<<(c-0xd4)
	case c == 0xdc:
		elems, err = s.uint(2)
	case c == 0xdd:
		elems, err = s.uint(4)
	case c == 0xde:
		elems, err = s.uint(2)
		elems *= 2
	case c == 0xdf:
		elems, err = s.uint(4)
		elems *= 2
	default:
		return fmt.Errorf("invalid msgpack code 0x%02x", c)
	}
	if err != nil {
		return err
	}
	if n > 0 {
		return s.skip(n)
	}
	if elems > s.left {
		return fmt.Errorf("container of %d items in %d bytes", elems, s.left)
	}
	for range elems {
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
