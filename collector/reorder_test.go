package collector

import (
	"slices"
	"strings"
	"testing"
)

// TestStreamingReorderer: a package's events stream while its tests arrive
// in run order, test by test, as go test -v prints them.
func TestStreamingReorderer(t *testing.T) {
	ev := func(action, test string) Event { return Event{Action: action, Package: "p", Test: test} }
	var got []string
	r := NewReorderer(map[string][]string{"p": {"TestA", "TestB"}}, func(e Event) { got = append(got, e.Action+" "+e.Test) })
	steps := []struct {
		e    Event
		want int // events passed on after it
	}{
		{ev("start", ""), 1},
		{ev("run", "TestA"), 2}, {ev("run", "TestA/sub"), 3}, {ev("pass", "TestA/sub"), 4},
		{ev("run", "TestB"), 4}, // TestA runs on in its process
		{ev("output", "TestB"), 4},
		{ev("pass", "TestA"), 7}, // TestB's run and output follow it at once
		{ev("pass", "TestB"), 8},
		{Event{Action: "output", Package: "p", Output: "ok\n"}, 9},
		{ev("pass", ""), 10},
	}
	for _, s := range steps {
		r.Emit(s.e)
		if len(got) != s.want {
			t.Fatalf("after %s %s: %d events passed on, want %d: %q", s.e.Action, s.e.Test, len(got), s.want, got)
		}
	}
	want := []string{"start ", "run TestA", "run TestA/sub", "pass TestA/sub", "pass TestA", "run TestB", "output TestB", "pass TestB", "output ", "pass "}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
}

func TestReorderer(t *testing.T) {
	ev := func(action, test, output string) Event {
		return Event{Action: action, Package: "p", Test: test, Output: output}
	}
	// Two batches finished out of order; TestMain printed before the tests
	// of the first batch to report; a crash trace follows TestB; -count=2.
	in := []Event{
		ev("start", "", ""),
		ev("output", "", "setup\n"),
		ev("run", "TestC", ""), ev("pass", "TestC", ""),
		ev("run", "TestB", ""), ev("run", "TestB/x", ""), ev("fail", "TestB/x", ""), ev("fail", "TestB", ""),
		ev("output", "", "panic trace\n"),
		ev("run", "TestA", ""), ev("pass", "TestA", ""),
		ev("run", "TestC", ""), ev("pass", "TestC", ""),
		ev("run", "TestA", ""), ev("pass", "TestA", ""),
		ev("output", "", "FAIL\tp\t0.1s\n"),
		ev("fail", "", ""),
	}
	var got []string
	r := NewReorderer(map[string][]string{"p": {"TestA", "TestB", "TestC"}}, func(e Event) {
		got = append(got, e.Action+" "+e.Test+" "+strings.TrimSpace(e.Output))
	})
	for i, e := range in {
		n := len(got)
		r.Emit(e)
		switch {
		case i < 2 && len(got) != n+1:
			t.Fatalf("package output before the first test held back: %v", got)
		case i >= 2 && i <= 8 && len(got) != 2:
			t.Fatalf("TestC or TestB passed on before TestA, ahead in run order, ran: %v", got)
		case i == 9 && len(got) != 3:
			t.Fatalf("the head test's run event held back: %v", got)
		case i == 10 && len(got) != 11:
			t.Fatalf("tests done ahead of their turn not passed on after the head test ended: %v", got)
		}
	}
	r.Emit(Event{Action: "start", Package: "other"}) // not ordered: at once
	want := []string{
		"start  ", "output  setup",
		"run TestA ", "pass TestA ",
		"run TestB ", "run TestB/x ", "fail TestB/x ", "fail TestB ", "output  panic trace",
		"run TestC ", "pass TestC ",
		"run TestA ", "pass TestA ",
		"run TestC ", "pass TestC ",
		"output  FAIL\tp\t0.1s", "fail  ",
		"start  ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
}
