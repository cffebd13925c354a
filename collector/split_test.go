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

// TestWorkerAttr checks the worker attributes of a plain process and of a
// test split over two workers.
func TestWorkerAttr(t *testing.T) {
	var got []Event
	m := NewMerger("p", nil, func(e Event) { got = append(got, e) })
	m.SplitParent("TestT", 2, []string{"a", "b"})
	part := func(sub string) string {
		return "=== RUN   TestT\n=== RUN   TestT/" + sub + "\n--- PASS: TestT/" + sub + " (0.00s)\n--- PASS: TestT (0.00s)\nPASS\n"
	}
	for i, out := range []string{part("a"), part("b"), "=== RUN   TestU\n=== RUN   TestU/x\n--- PASS: TestU (0.00s)\n    --- PASS: TestU/x (0.00s)\nPASS\n"} {
		c := m.NewProcess(nil, true)
		c.SetWorker([]string{"gw0", "gw1", "gw2"}[i])
		c.Write([]byte(out))
		c.Finish(0, "")
	}
	m.Finish()
	var attrs, lines []string
	for _, e := range got {
		switch {
		case e.Action == "attr":
			if e.Key != WorkerAttr || e.Output != "" || e.Package != "p" {
				t.Errorf("attr event %+v, want key %q, package p, no output", e, WorkerAttr)
			}
			attrs = append(attrs, e.Test+"="+e.Value)
		case e.Action == "output" && strings.HasPrefix(e.Output, "=== ATTR  "):
			lines = append(lines, e.Output)
		}
	}
	want := []string{"TestT=gw0,gw1", "TestT/a=gw0", "TestT/b=gw1", "TestU=gw2"}
	if strings.Join(attrs, " ") != strings.Join(want, " ") {
		t.Errorf("worker attributes %q, want %q", attrs, want)
	}
	wantLines := []string{
		"=== ATTR  TestT godist.worker gw0,gw1\n",
		"=== ATTR  TestT/a godist.worker gw0\n",
		"=== ATTR  TestT/b godist.worker gw1\n",
		"=== ATTR  TestU godist.worker gw2\n",
	}
	if strings.Join(lines, "") != strings.Join(wantLines, "") {
		t.Errorf("=== ATTR lines %q, want %q", lines, wantLines)
	}
	for i, e := range got {
		if e.Action == "attr" && (i < 2 || got[i-2].Action != "run" || got[i-2].Test != e.Test || got[i-1].Output != "=== RUN   "+e.Test+"\n") {
			t.Errorf("attr of %s does not follow its run event and === RUN line", e.Test)
		}
	}
}
