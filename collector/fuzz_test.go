package collector

import (
	"strings"
	"testing"
)

// FuzzConverter checks invariants on arbitrary input: no panic, output
// events of at most 1 KiB, the same output bytes however the input is
// chunked, and every started test ended after Finish.
func FuzzConverter(f *testing.F) {
	f.Add([]byte("\x16=== RUN   TestA\nx\x16--- PASS: TestA (0.00s)\n\x16PASS\n"), 3)
	f.Add([]byte("\x16=== RUN   TestA\n\x16=== RUN   TestA/b\n\x16=== PAUSE TestA/b\n\x16=== CONT  TestA/b\n    log\n"), 1)
	f.Add([]byte("=== RUN   BenchmarkX\nBenchmarkX-8 \t 10\t 1 ns/op\n--- BENCH: BenchmarkX\nFAIL\n"), 5)
	f.Add([]byte(strings.Repeat("é", 3000)+"\n\x16=== ATTR  TestA k v\n"), 7)
	f.Fuzz(func(t *testing.T, in []byte, n int) {
		if n <= 0 || n > len(in)+1 {
			n = 1
		}
		whole, r := convert("p", []string{"TestA"}, in, len(in)+1, 2)
		parts, _ := convert("p", []string{"TestA"}, in, n, 2)
		// Synthesized durations depend on how often the fake clock was read.
		w := durationRE.ReplaceAllString(joinOutput(whole), "(X)")
		p := durationRE.ReplaceAllString(joinOutput(parts), "(X)")
		if w != p {
			t.Fatalf("output depends on chunking:\n%q\n%q", w, p)
		}
		started, ended := make(map[string]bool), make(map[string]bool)
		for _, e := range whole {
			if len(e.Output) > outputBufSize {
				t.Fatalf("output event of %d bytes", len(e.Output))
			}
			if e.Package != fixModule+"/p" || e.Time == nil {
				t.Fatalf("event without package or time: %+v", e)
			}
			switch e.Action {
			case "run":
				started[e.Test] = true
			case "pass", "fail", "skip":
				ended[e.Test] = true
			}
		}
		for name := range started {
			if !ended[name] && !strings.HasPrefix(name, "Benchmark") {
				t.Fatalf("%q started and never ended (result %+v)", name, r)
			}
		}
	})
}
