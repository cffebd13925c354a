package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Decoder reads a `go test -json` stream: one JSON event per line. Blank
// lines are skipped.
type Decoder struct {
	sc   *bufio.Scanner
	line int
}

// DecodeError reports a line that is not a JSON event.
type DecodeError struct {
	Line int    // 1-based line number
	Text string // the line, truncated to 200 bytes
	Err  error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("collector: decode line %d %q: %v", e.Line, e.Text, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	return &Decoder{sc: sc}
}

// Decode returns the next event, io.EOF at the end of the stream, or a
// *DecodeError for a line that is not an event.
func (d *Decoder) Decode() (Event, error) {
	for d.sc.Scan() {
		d.line++
		b := bytes.TrimSpace(d.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return Event{}, &DecodeError{Line: d.line, Text: string(b[:min(len(b), 200)]), Err: err}
		}
		if e.Action == "" {
			return Event{}, &DecodeError{Line: d.line, Text: string(b[:min(len(b), 200)]), Err: errNoAction}
		}
		return e, nil
	}
	if err := d.sc.Err(); err != nil {
		return Event{}, fmt.Errorf("collector: decode line %d: %w", d.line+1, err)
	}
	return Event{}, io.EOF
}

var errNoAction = fmt.Errorf("no Action field")

// ReadEvents decodes a whole stream.
func ReadEvents(r io.Reader) ([]Event, error) {
	d := NewDecoder(r)
	var events []Event
	for {
		e, err := d.Decode()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, e)
	}
}
