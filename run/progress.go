package run

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress keeps a live status line at the bottom of a terminal: tests
// done out of all, failures so far, what each worker runs, and an estimate
// of the time left. It exists only when stdout is a terminal, the output is
// not -json and the run is not under CI ($CI set, as CI services set it:
// their logs capture a terminal's carriage returns as noise); the output
// proper goes through Write, which takes the status line away, writes, and
// draws it again.
//
// Counts move per test: testDone is fed every top-level test's result as
// the merger emits it, before the text output holds it back in package
// order. The estimate is the duration history's for the tests not done
// (over the workers) when the history knows the run's tests; on a first
// run it is the plan's work left at the pace of the tests done so far.
//
// start begins a goroutine that redraws the line; stop ends it and erases
// the line.
type progress struct {
	out io.Writer

	mu        sync.Mutex
	shown     bool
	total     int
	done      int
	failed    int
	estimate  time.Duration // all planned work, from the history
	finished  time.Duration // planned work of finished tests
	known     bool          // the history knows (nearly) all the run's tests
	histWork  time.Duration // the history's estimate of all the run's tests
	workers   int
	running   map[int]string // worker -> what it runs
	startedAt time.Time
	firstRun  time.Time // when the first test started
	now       func() time.Time

	quit chan struct{}
	wg   sync.WaitGroup
}

// newProgress returns nil unless w is a terminal and the run shows text.
func newProgress(w io.Writer, o *Config) *progress {
	f, ok := w.(*os.File)
	if !ok || o.JSON || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" || underCI() {
		return nil
	}
	return &progress{out: w, running: map[int]string{}, startedAt: time.Now(), now: time.Now}
}

// underCI reports whether $CI says the run is a CI job (GitHub Actions,
// GitLab, CircleCI, Travis, Buildkite… set CI=true; CI=false or 0 do not
// count).
func underCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// setKnown says whether the history knows the run's tests, so that its
// estimate means something.
func (p *progress) setKnown(known bool, work time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.known, p.histWork = known, work
	p.mu.Unlock()
}

// testRunning notes a top-level test's start on worker w (-1: unknown).
func (p *progress) testRunning(w int, pkg, test string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstRun.IsZero() {
		p.firstRun = p.now()
	}
	if w >= 0 {
		p.running[w] = path.Base(pkg) + " " + test
	}
}

// testDone counts one top-level test's result; est is what the plan
// expected it to take.
func (p *progress) testDone(failed bool, est time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	p.finished += est
}

func (p *progress) start(total int, estimate time.Duration, workers int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total, p.estimate, p.workers = total, estimate, max(workers, 1)
	p.mu.Unlock()
	p.quit = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-tick.C:
				p.mu.Lock()
				p.drawLocked()
				p.mu.Unlock()
			}
		}
	}()
}

func (p *progress) stop() {
	if p == nil || p.quit == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
	p.mu.Lock()
	p.eraseLocked()
	p.mu.Unlock()
}

// wrap returns a writer for w (stdout, or stderr on the same terminal)
// that takes the status line away before writing; the ticker draws it again.
func (p *progress) wrap(w io.Writer) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.eraseLocked()
		return w.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *progress) begin(w int, pkg string, tests []string) {
	if p == nil {
		return
	}
	what := path.Base(pkg)
	if len(tests) > 0 {
		what += " " + tests[0]
		if len(tests) > 1 {
			what += fmt.Sprintf(" +%d", len(tests)-1)
		}
	}
	p.mu.Lock()
	p.running[w] = what
	p.mu.Unlock()
}

// end says worker w's process ended. The counts come from testDone, test
// by test; the executor's per-process figures are not used.
func (p *progress) end(w, _, _ int, _ time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	delete(p.running, w)
	p.mu.Unlock()
}

// line is the status line's text.
func (p *progress) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "godist: %d/%d tests", min(p.done, p.total), p.total)
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %d failed", p.failed)
	}
	if left, ok := p.left(); ok {
		if left < time.Second {
			b.WriteString(", <1s left")
		} else {
			fmt.Fprintf(&b, ", ~%s left", left.Round(time.Second))
		}
	}
	ws := make([]int, 0, len(p.running))
	for w := range p.running {
		ws = append(ws, w)
	}
	sort.Ints(ws)
	for _, w := range ws {
		fmt.Fprintf(&b, " | gw%d %s", w, p.running[w])
	}
	return b.String()
}

// left estimates the time left; false when there is nothing to go on yet
// or nothing left.
func (p *progress) left() (time.Duration, bool) {
	if p.done >= p.total {
		return 0, false
	}
	if p.known && p.histWork > 0 {
		left := (p.histWork - p.finished) / time.Duration(p.workers)
		return max(left, 0), true
	}
	// A first run: the plan's tests left at the pace of those done, which
	// already reflects how many run at once.
	if p.done == 0 || p.firstRun.IsZero() {
		return 0, false
	}
	spent := p.now().Sub(p.firstRun)
	return time.Duration(float64(spent) * float64(p.total-p.done) / float64(p.done)), true
}

func (p *progress) drawLocked() {
	width := 80
	if f, ok := p.out.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 10 {
			width = w
		}
	}
	line := p.line()
	if len(line) > width-1 {
		line = line[:width-1]
	}
	fmt.Fprintf(p.out, "\r\033[K%s", line)
	p.shown = true
}

func (p *progress) eraseLocked() {
	if p.shown {
		io.WriteString(p.out, "\r\033[K")
		p.shown = false
	}
}
