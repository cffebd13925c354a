package collector

import (
	"strings"
	"testing"
)

func TestSplitParentMerge(t *testing.T) {
	var got []Event
	m := NewMerger("p", nil, func(e Event) { got = append(got, e) })
	m.SplitParent("TestT", 2, []string{"b", "a"})
	part := func(sub, verdict string, secs string) string {
		return "=== RUN   TestT\n    t_test.go:1: setup\n=== RUN   TestT/" + sub + "\n--- " + verdict + ": TestT/" + sub + " (" + secs + "s)\n--- " + verdict + ": TestT (" + secs + "s)\n" + verdict + "\n"
	}
	for _, out := range []string{part("a", "PASS", "0.50"), part("b", "FAIL", "0.25")} {
		c := m.NewProcess([]string{"TestT"}, true)
		c.Write([]byte(out))
		code := 0
		if strings.Contains(out, "FAIL") {
			code = 1
		}
		c.Finish(code, "")
	}
	m.Finish()
	var runs, results, setups int
	var final Event
	for _, e := range got {
		if e.Test != "TestT" {
			continue
		}
		switch e.Action {
		case "run":
			runs++
		case "pass", "fail", "skip":
			results++
			final = e
		case "output":
			if strings.Contains(e.Output, "setup") {
				setups++
			}
		}
	}
	if runs != 1 || results != 1 || setups != 1 {
		t.Errorf("TestT: %d runs, %d results, %d setup lines; want one each", runs, results, setups)
	}
	if final.Action != "fail" || final.Elapsed == nil || *final.Elapsed != 0.75 {
		t.Errorf("TestT result %+v, want fail after 0.75s", final)
	}
	subs := 0
	for _, e := range got {
		if strings.HasPrefix(e.Test, "TestT/") && e.Action == "run" {
			subs++
		}
	}
	if subs != 2 {
		t.Errorf("%d subtests under TestT, want 2", subs)
	}
	var order []string
	for _, e := range got {
		if strings.HasPrefix(e.Test, "TestT/") && e.Action == "run" {
			order = append(order, e.Test)
		}
	}
	if len(order) == 2 && order[0] != "TestT/b" {
		t.Errorf("subtests in order %v, want the known run order b, a", order)
	}
}
