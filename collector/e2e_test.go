package collector

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestEndToEndModule runs the fixture packages the way godist does (each
// package split into processes of at most two tests, packages handled
// concurrently, streams ordered by a Sequencer) and compares with
// `go test -json` on the same packages.
func TestEndToEndModule(t *testing.T) {
	pkgs := []string{"allpass", "buildfail", "mixed", "notests"}
	want := goTestJSON(t, "allpass", "./buildfail", "./mixed", "./notests")
	var buildOutput strings.Builder
	for _, e := range want {
		if e.Action == "build-output" {
			buildOutput.WriteString(e.Output)
		}
	}
	tests := map[string][]string{
		"allpass": {"TestOne", "TestTwo", "TestThree", "TestFour", "TestFive", "TestSix"},
		"mixed":   {"TestPass", "TestFail", "TestSkip", "TestSub", "TestParallel", "TestNoNewline", "TestLongLine", "TestAttr", "TestPassAB", "ExampleAdd", "ExampleAdd_wrong"},
	}
	var paths []string
	for _, p := range pkgs {
		paths = append(paths, fixModule+"/"+p)
	}
	for _, mode := range []OrderMode{Streaming, Ordered} {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			var mu sync.Mutex
			var got []Event
			seq := NewSequencer(paths, mode, func(e Event) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, e)
			})
			var wg sync.WaitGroup
			for _, p := range slices.Backward(pkgs) { // later packages first
				wg.Go(func() {
					m := NewMerger(fixModule+"/"+p, nil, seq.Emit)
					switch p {
					case "notests":
						m.NoTestFiles()
						return
					case "buildfail":
						m.BuildFailed(fixModule+"/buildfail [example.com/fix/buildfail.test]", buildOutput.String())
						return
					}
					m.Start()
					for batch := range slices.Chunk(tests[p], 2) {
						out, code := runFixture(t, p, batchRun{batch}.pattern())
						c := m.NewProcess(batch, true)
						c.Write(out)
						c.Finish(code, "")
					}
					m.Finish()
				})
			}
			wg.Wait()
			seq.Flush()

			if g, w := outcomes(got), outcomes(want); !maps.Equal(g, w) {
				t.Errorf("outcomes differ:\ngot  %v\nwant %v", g, w)
			}
			var starts []string
			for _, e := range got {
				if e.Action == "start" {
					starts = append(starts, e.Package)
				}
			}
			if !slices.Equal(starts, paths) {
				t.Errorf("start order %v", starts)
			}
			g, w := gotestsumCounts(t, got), gotestsumCounts(t, want)
			t.Logf("gotestsum counts: %v", g)
			if !maps.Equal(g, w) {
				t.Errorf("gotestsum counts %v, go test's %v", g, w)
			}
			for _, p := range paths {
				g, w := filterPkg(got, p), filterPkg(want, p)
				diffLines(t, packageLines(g), packageLines(w))
				if go1, wo := outputByTest(g), outputByTest(w); !maps.Equal(go1, wo) {
					t.Errorf("%s: output by test differs", p)
				}
			}
		})
	}
}

func filterPkg(events []Event, pkg string) []Event {
	var out []Event
	for _, e := range events {
		if e.Package == pkg || strings.HasPrefix(e.ImportPath, pkg+" ") {
			out = append(out, e)
		}
	}
	return out
}
