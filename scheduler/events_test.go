package scheduler

import (
	"testing"
	"time"

	"github.com/godist/godist/collector"
)

func TestResultFromEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) *time.Time { x := t0.Add(time.Duration(ms) * time.Millisecond); return &x }
	el := func(s float64) *float64 { return &s }
	evs := []collector.Event{
		{Time: at(1), Action: "start", Package: "p"},
		{Time: at(25), Action: "run", Package: "p", Test: "TestA"},
		{Time: at(26), Action: "run", Package: "p", Test: "TestA/sub"},
		{Time: at(529), Action: "pass", Package: "p", Test: "TestA/sub", Elapsed: el(0.5)},
		{Time: at(530), Action: "pass", Package: "p", Test: "TestA", Elapsed: el(0.5)},
		{Time: at(531), Action: "run", Package: "p", Test: "TestTiny"},
		{Time: at(534), Action: "pass", Package: "p", Test: "TestTiny", Elapsed: el(0)},
		{Time: at(540), Action: "pass", Package: "p", Elapsed: el(0.54)},
	}
	r := ResultFromEvents(t0, evs)
	if r.Startup != 25*time.Millisecond {
		t.Errorf("startup %v", r.Startup)
	}
	want := []TestResult{{"TestA/sub", 500 * time.Millisecond}, {"TestA", 500 * time.Millisecond}, {"TestTiny", 3 * time.Millisecond}}
	if len(r.Tests) != len(want) {
		t.Fatalf("tests %v", r.Tests)
	}
	for i := range want {
		if r.Tests[i] != want[i] {
			t.Errorf("test %d: %v, want %v", i, r.Tests[i], want[i])
		}
	}
}

func TestExactPattern(t *testing.T) {
	bin := fixtureBinary(t)
	pkg := fixturePkgs(t)["example.com/mod/a"]
	for _, tc := range []struct {
		levels []string
		want   string
	}{
		{[]string{"TestA", "sub"}, "^TestA$/^sub$"},
		{[]string{"Test"}, "^Test$"},
		{[]string{"FuzzIn", "seed#0"}, "^FuzzIn$/^seed#0$"},
	} {
		p, ok := ExactPattern(tc.levels)
		if !ok || p != tc.want {
			t.Fatalf("ExactPattern(%q) = %q, %v", tc.levels, p, ok)
		}
		got := runBinary(t, bin, pkg.Dir, p, "")
		last := got[len(got)-1]
		if want := tc.levels[0] + "/" + tc.levels[len(tc.levels)-1]; len(tc.levels) > 1 && (len(got) != 2 || last != want) {
			t.Errorf("%s ran %q", p, got)
		}
	}
	if _, ok := ExactPattern([]string{"TestA", "has space"}); ok {
		t.Error("a name with a space cannot be reported by the binary")
	}
}
