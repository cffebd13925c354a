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
// of the time left from the duration history. It exists only when stdout is
// a terminal and the output is not -json; the output proper goes through
// Write, which takes the status line away, writes, and draws it again.
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
	finished  time.Duration // planned work of finished units
	workers   int
	running   map[int]string // worker -> what it runs
	startedAt time.Time

	quit chan struct{}
	wg   sync.WaitGroup
}

// newProgress returns nil unless w is a terminal and the run shows text.
func newProgress(w io.Writer, o *Config) *progress {
	f, ok := w.(*os.File)
	if !ok || o.JSON || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil
	}
	return &progress{out: w, running: map[int]string{}, startedAt: time.Now()}
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

func (p *progress) end(w, done, failed int, estimate time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	delete(p.running, w)
	p.done += done
	p.failed += failed
	p.finished += estimate
	p.mu.Unlock()
}

// line is the status line's text.
func (p *progress) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "godist: %d/%d tests", min(p.done, p.total), p.total)
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %d failed", p.failed)
	}
	if left := p.estimate - p.finished; p.estimate > 0 && left > 0 {
		fmt.Fprintf(&b, ", ~%s left", (left / time.Duration(p.workers)).Round(time.Second))
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
