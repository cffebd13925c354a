package collector

import (
	"slices"
	"strings"
	"testing"
)

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
	for _, e := range in {
		r.Emit(e)
		if e.Action == "run" && len(got) > 0 {
			t.Fatalf("events passed on before the package ended: %v", got)
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
