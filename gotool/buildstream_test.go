package gotool

import (
	"bytes"
	"strings"
	"testing"
)

// TestBuildStreamReportsFailuresOnTheWay: the go command's -json output,
// fed in odd-sized pieces, calls onFail at a package's terminal fail event
// (not at its first build-fail: vet of the _test package may follow), with
// all its build events in what came so far.
func TestBuildStreamReportsFailuresOnTheWay(t *testing.T) {
	out := `{"ImportPath":"m/a [m/a.test]","Action":"build-output","Output":"# m/a\n"}
{"ImportPath":"m/a [m/a.test]","Action":"build-fail"}
{"ImportPath":"m/a_test [m/a.test]","Action":"build-output","Output":"# m/a_test\n"}
{"ImportPath":"m/a_test [m/a.test]","Action":"build-fail"}
{"Time":"2026-01-01T00:00:00Z","Action":"start","Package":"m/a"}
{"Time":"2026-01-01T00:00:00Z","Action":"output","Package":"m/a","Output":"FAIL\tm/a [build failed]\n"}
{"Time":"2026-01-01T00:00:00Z","Action":"fail","Package":"m/a","Elapsed":0,"FailedBuild":"m/a_test [m/a.test]"}
{"Time":"2026-01-01T00:00:00Z","Action":"start","Package":"m/b"}
`
	var calls []string
	s := &buildStream{onFail: func(pkg string, soFar []byte) {
		lines, failed, _ := ownBuildEvents(soFar, true)
		if !failed[pkg] || !bytes.Contains(lines[pkg], []byte("# m/a_test")) {
			t.Errorf("onFail(%s) before all its build events: %q", pkg, soFar)
		}
		if bytes.Contains(soFar, []byte(`"m/b"`)) {
			t.Errorf("onFail(%s) late, after the next package's events", pkg)
		}
		calls = append(calls, pkg)
	}}
	for rest := out; rest != ""; {
		n := min(len(rest), 7)
		s.Write([]byte(rest[:n]))
		rest = rest[n:]
	}
	if strings.Join(calls, " ") != "m/a" {
		t.Errorf("onFail calls %q, want one for m/a", calls)
	}
	if string(s.Bytes()) != out {
		t.Error("output not kept whole")
	}
}
