package collector

import (
	"fmt"
	"strings"
	"testing"
)

// bigOutput is test2json-framed output of n tests with subtests and logs,
// shaped like real captured output.
func bigOutput(prefix string, n int) []byte {
	var b strings.Builder
	b.WriteString("setup from TestMain\n")
	for i := range n {
		name := fmt.Sprintf("Test%s%d", prefix, i)
		fmt.Fprintf(&b, "\x16=== RUN   %s\n    x_test.go:10: starting %d\n", name, i)
		fmt.Fprintf(&b, "\x16=== RUN   %s/sub_test\n    x_test.go:12: in sub with a longer line of log output %s\n", name, strings.Repeat("z", 60))
		fmt.Fprintf(&b, "\x16--- PASS: %s/sub_test (0.00s)\n", name)
		fmt.Fprintf(&b, "plain stdout line from the test\n\x16--- PASS: %s (0.01s)\n", name)
	}
	b.WriteString("\x16PASS\nteardown\n")
	return []byte(b.String())
}

func countEvents(b *testing.B, in []byte) int {
	n := 0
	c := NewProcessConverter("p", nil, fakeClock(), func(Event) { n++ })
	c.Write(in)
	c.Finish(0, "")
	return n
}

func BenchmarkConverter(b *testing.B) {
	in := bigOutput("", 2000)
	perRun := countEvents(b, in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewProcessConverter("p", nil, fakeClock(), func(Event) {})
		for rest := in; len(rest) > 0; {
			k := min(len(rest), 32*1024) // pipe-sized reads
			c.Write(rest[:k])
			rest = rest[k:]
		}
		c.Finish(0, "")
	}
	b.ReportMetric(float64(perRun)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkMerger(b *testing.B) {
	const batches = 4
	var ins [][]byte
	perRun := 0
	for i := range batches {
		in := bigOutput(fmt.Sprint(i, "_"), 500)
		ins = append(ins, in)
		perRun += countEvents(b, in)
	}
	b.ReportAllocs()
	for b.Loop() {
		m := NewMerger("p", fakeClock(), func(Event) {})
		m.Start()
		for _, in := range ins {
			c := m.NewProcess(nil, false)
			c.Write(in)
			c.Finish(0, "")
		}
		m.Finish()
	}
	b.ReportMetric(float64(perRun)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
