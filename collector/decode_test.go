package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecoderRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 21, 40, 31, 436016378, time.UTC)
	el := 0.004
	in := []Event{
		{ImportPath: "p [p.test]", Action: "build-output", Output: "# p\n"},
		{Time: &now, Action: "start", Package: "p"},
		{Time: &now, Action: "attr", Package: "p", Test: "TestA", Key: "k", Value: "v w"},
		{Time: &now, Action: "artifacts", Package: "p", Test: "TestA", Path: "/tmp/x"},
		{Time: &now, Action: "fail", Package: "p", Elapsed: &el, FailedBuild: "p [p.test]"},
	}
	var buf bytes.Buffer
	for _, e := range in {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	buf.WriteString("\n")
	text := buf.String()
	got, err := ReadEvents(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	for _, e := range got {
		b, _ := json.Marshal(e)
		again.Write(append(b, '\n'))
	}
	if again.String()+"\n" != text {
		t.Errorf("round trip:\n%s\nwant\n%s", again.String(), text)
	}
	// Go test's own bytes.
	const line = `{"Time":"2026-11-25T21:40:31.436016378Z","Action":"start","Package":"example.com/fix/allpass"}`
	e, err := NewDecoder(strings.NewReader(line)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(e); string(b) != line {
		t.Errorf("marshal %s, want %s", b, line)
	}
}

func TestDecoderErrors(t *testing.T) {
	_, err := ReadEvents(strings.NewReader(`{"Action":"start","Package":"p"}` + "\nFAIL\tp [build failed]\n"))
	var de *DecodeError
	if !errors.As(err, &de) || de.Line != 2 || de.Text != "FAIL\tp [build failed]" {
		t.Errorf("error %v", err)
	}
	_, err = ReadEvents(strings.NewReader(`{"Package":"p"}`))
	if !errors.As(err, &de) || !errors.Is(err, errNoAction) {
		t.Errorf("error %v", err)
	}
}
