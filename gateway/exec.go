package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/channel"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	yaegisyscall "github.com/traefik/yaegi/stdlib/syscall"
	"github.com/traefik/yaegi/stdlib/unrestricted"
)

// remoteFile is the file name positions in remote code are reported with.
const remoteFile = "remote.go"

// ScriptChannel is the type of the `channel` variable predeclared in remote
// code. It delegates to the execution's *channel.Channel with the
// execution's context, which ends when the controller's connection ends.
type ScriptChannel struct {
	ch  *channel.Channel
	ctx context.Context
}

// Send sends v to the controller (blocking while the window is full).
func (c *ScriptChannel) Send(v any) error { return c.ch.Send(c.ctx, v) }

// Receive returns the next value; io.EOF after the controller closed.
func (c *ScriptChannel) Receive() (any, error) { return c.ch.Receive(c.ctx) }

// ReceiveTimeout is Receive bounded by d; on timeout the error satisfies
// errors.Is(err, channel.ErrTimeout).
func (c *ScriptChannel) ReceiveTimeout(d time.Duration) (any, error) {
	ctx, cancel := context.WithTimeout(c.ctx, d)
	defer cancel()
	return c.ch.Receive(ctx)
}

// Set binds name to v on both sides of the channel.
func (c *ScriptChannel) Set(name string, v any) error { return c.ch.Set(name, v) }

// Get waits until name is bound and returns its value.
func (c *ScriptChannel) Get(name string) (any, error) { return c.ch.Get(c.ctx, name) }

// GetTimeout is Get bounded by d.
func (c *ScriptChannel) GetTimeout(name string, d time.Duration) (any, error) {
	ctx, cancel := context.WithTimeout(c.ctx, d)
	defer cancel()
	return c.ch.Get(ctx, name)
}

// Close closes the channel early; the execution itself goes on.
func (c *ScriptChannel) Close() error { return c.ch.Close() }

// CloseWithError closes the channel; the controller receives a
// *channel.RemoteError with msg.
func (c *ScriptChannel) CloseWithError(msg string) error {
	return c.ch.CloseWithError(&channel.RemoteError{Message: msg})
}

// IsClosed reports whether the channel is closed.
func (c *ScriptChannel) IsClosed() bool { return c.ch.IsClosed() }

// Context is the execution's context.
func (c *ScriptChannel) Context() context.Context { return c.ctx }

// Raw gives the underlying channel, for the full API.
func (c *ScriptChannel) Raw() *channel.Channel { return c.ch }

// execution is one run of remote source in its own interpreter.
type execution struct {
	w      *worker
	ch     *channel.Channel
	ctx    context.Context
	script *ScriptChannel
	trace  *panicTrace

	goroutines sync.WaitGroup // godist.Go goroutines; run waits for them

	shifts map[int]int // line -> bytes of wrapper before the caller's text
	cols   colMap      // columns moved by rewriteSource

	mu  sync.Mutex
	err *channel.RemoteError // first failure; closes the channel when the execution ends
}

// run interprets req.Source, then closes the channel: cleanly if main and
// all godist.Go goroutines returned normally, with a *channel.RemoteError
// otherwise.
func (x *execution) run(req ExecRequest) {
	x.w.running.Add(1)
	defer x.w.running.Add(-1)
	x.script = &ScriptChannel{ch: x.ch, ctx: x.ctx}
	src, shifts, err := wrapSource(req.Source)
	x.shifts = shifts
	if err != nil {
		x.fail(remoteError("compile", err, nil))
		x.finish()
		return
	}
	rw, err := rewriteSource(src)
	if err != nil {
		x.fail(x.refusal(err))
		x.finish()
		return
	}
	src, x.cols = rw.src, rw.cols
	pi := x.w.takeInterp()
	if pi.err != nil {
		x.fail(remoteError("setup", pi.err, nil))
		x.finish()
		return
	}
	i := pi.i
	x.trace = pi.trace
	if err := useSafe(i, interp.Exports{"godist/godist": x.exports()}); err != nil {
		x.fail(remoteError("setup", err, nil))
		x.finish()
		return
	}
	prog, err := compile(i, src)
	if err != nil {
		var ip *interpPanic
		if errors.As(err, &ip) && len(rw.unknownRanges) > 0 {
			err = fmt.Errorf("%w (range over an int or a function is not supported in remote code; suspects: range at %s)", err, strings.Join(rw.unknownRanges, ", "))
		}
		x.fail(remoteError("compile", err, nil))
		x.finish()
		return
	}
	if req.Mode == ModeOneshot {
		// Bind accepted, then wait for the controller's go-ahead: the
		// round trip makes sure the controller heard us before the code
		// runs (code that ends the process would lose the frame).
		if err := x.ch.Set(acceptedName, true); err != nil {
			x.finish()
			return
		}
		if _, err := x.ch.Get(x.ctx, goAheadName); err != nil {
			x.finish()
			return
		}
	}
	// Not ExecuteWithContext: it returns on cancel while its goroutine
	// still writes the results (a data race). Remote code stops through
	// godist.Context and failing channel operations instead.
	returned := false
	defer func() {
		// runtime.Goexit in main: deferred calls still run, so the
		// channel is closed here too.
		if !returned {
			x.fail(&channel.RemoteError{Message: "run: runtime.Goexit called in main", Stack: x.trace.stack()})
		}
		x.goroutines.Wait()
		x.finish()
	}()
	if _, err := execute(i, prog); err != nil {
		x.fail(remoteError("run", err, x.trace))
	}
	returned = true
}

// preparedInterp is an interpreter with the standard library loaded, made
// ahead of time: loading it is most of an execution's start-up cost.
type preparedInterp struct {
	i     *interp.Interpreter
	trace *panicTrace
	err   error
}

func (w *worker) newInterp() *preparedInterp {
	p := &preparedInterp{trace: &panicTrace{out: w.opts.Stderr}}
	p.i = interp.New(interp.Options{
		GoPath:       w.gopath,
		Env:          os.Environ(),
		Unrestricted: true,      // os/exec, the real environment, os.Exit
		Stdout:       os.Stdout, // the worker points it at stderr (ServeStdio)
		Stderr:       p.trace,
		Args:         []string{remoteFile},
	})
	// syscall: remote code manages processes (process groups, signals).
	// Then what the program serving us compiled in (Provide).
	for _, syms := range []interp.Exports{stdlib.Symbols, unrestricted.Symbols, yaegisyscall.Symbols, providedSymbols()} {
		if err := useSafe(p.i, syms); err != nil {
			p.err = err
			break
		}
	}
	return p
}

// takeInterp returns the prepared interpreter if there is one (and starts
// preparing the next, in a goroutine owned by the worker), else makes one.
func (w *worker) takeInterp() *preparedInterp {
	select {
	case p := <-w.warm:
		w.prepareInterp()
		return p
	default:
		return w.newInterp()
	}
}

func (w *worker) prepareInterp() {
	if w.ctx.Err() != nil {
		return
	}
	w.wg.Go(func() {
		p := w.newInterp()
		select {
		case w.warm <- p:
		default: // another one got there first
		}
	})
}

func useSafe(i *interp.Interpreter, e interp.Exports) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("interpreter setup panicked: %v", r)
		}
	}()
	return i.Use(e)
}

// exports is the `import "godist"` package of one execution.
func (x *execution) exports() map[string]reflect.Value {
	return map[string]reflect.Value{
		"Channel":       reflect.ValueOf(func() *ScriptChannel { return x.script }),
		"Go":            reflect.ValueOf(x.goFunc),
		"Context":       reflect.ValueOf(func() context.Context { return x.ctx }),
		"Info":          reflect.ValueOf(func() Info { return x.w.info() }),
		"ID":            reflect.ValueOf(func() string { return x.w.gatewayID() }),
		"Version":       reflect.ValueOf(func() string { return Version }),
		"ServeListener": reflect.ValueOf(x.w.serveListenerInBackground),
		"ScriptChannel": reflect.ValueOf((*ScriptChannel)(nil)),
		"RawChannel":    reflect.ValueOf((**channel.Channel)(nil)), // = *channel.Channel (yaegi exports the element type of a nil pointer)
		"Gateway":       reflect.ValueOf((*Gateway)(nil)),          // a nested gateway opened by remote code
		"Spec":          reflect.ValueOf((*Spec)(nil)),
		"Open":          reflect.ValueOf(Open),
		"ParseSpec":     reflect.ValueOf(ParseSpec),
		"ErrTimeout":    reflect.ValueOf(&channel.ErrTimeout).Elem(),
		"ErrClosed":     reflect.ValueOf(&channel.ErrClosed).Elem(),
		"RemoteError":   reflect.ValueOf((*channel.RemoteError)(nil)),
		"Clear":         reflect.ValueOf(clearValue),  // the clear builtin (rewrite.go)
		"AfterFunc":     reflect.ValueOf(x.afterFunc), // time.AfterFunc (rewrite.go)
	}
}

// goFunc runs f in a goroutine owned by the execution: a panic in f fails
// the execution instead of killing the worker, and the execution's channel
// closes only after f returned.
func (x *execution) goFunc(f func()) {
	x.goroutines.Add(1)
	go func() {
		defer x.goroutines.Done()
		defer func() {
			if r := recover(); r != nil {
				x.fail(remoteError("godist.Go", interp.Panic{Value: r}, x.trace))
			}
		}()
		f()
	}()
}

// refusal describes constructs rewriteSource refused, at the caller's
// positions.
func (x *execution) refusal(err error) *channel.RemoteError {
	var msgs []string
	var where string
	for _, e := range unjoin(err) {
		var re *rewriteError
		if !errors.As(e, &re) {
			msgs = append(msgs, e.Error())
			continue
		}
		pos := unshift(fmt.Sprintf("%s:%d:%d", remoteFile, re.pos.Line, re.pos.Column), x.shifts, nil)
		if where == "" {
			where = pos
		}
		msgs = append(msgs, pos+": "+re.msg)
	}
	return &channel.RemoteError{Message: "compile: " + strings.Join(msgs, "\n"), Where: where}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// afterFunc is time.AfterFunc for remote code: a panic in f closes the
// execution's channel with a *channel.RemoteError at once, instead of
// killing the worker (a timer's goroutine is nobody's to recover).
func (x *execution) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		defer func() {
			if r := recover(); r != nil {
				x.fail(remoteError("time.AfterFunc", interp.Panic{Value: r}, x.trace))
				x.finish()
			}
		}()
		f()
	})
}

func (x *execution) fail(e *channel.RemoteError) {
	e.Where = unshift(e.Where, x.shifts, x.cols)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err == nil {
		x.err = e
	}
}

func (x *execution) finish() {
	x.mu.Lock()
	e := x.err
	x.mu.Unlock()
	if e != nil {
		_ = x.ch.CloseWithError(e)
		return
	}
	_ = x.ch.Close()
}

// interpPanic is the interpreter panicking while it compiles.
type interpPanic struct{ value any }

func (p *interpPanic) Error() string {
	return fmt.Sprintf("interpreter panicked (unsupported construct?): %v", p.value)
}

// compile compiles src; yaegi panics on some unsupported constructs
// (range over int or func), which become errors here.
func compile(i *interp.Interpreter, src string) (prog *interp.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &interpPanic{value: r}
		}
	}()
	return i.Compile(src)
}

// execute runs a compiled program; Execute recovers the program's panics,
// this also covers the interpreter's own.
func execute(i *interp.Interpreter, prog *interp.Program) (_ reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = interp.Panic{Value: r}
		}
	}()
	return i.Execute(prog)
}

var whereRE = regexp.MustCompile(`^(` + regexp.QuoteMeta(remoteFile) + `:(\d+):)(\d+)(.*)$`)

// unshift corrects a column for the rewriter's edits and the wrapper's
// text on that line.
func unshift(where string, shifts map[int]int, cols colMap) string {
	m := whereRE.FindStringSubmatch(where)
	if m == nil {
		return where
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	col = cols.original(line, col) - shifts[line]
	return m[1] + strconv.Itoa(max(col, 1)) + m[4]
}

var posRE = regexp.MustCompile(`^(?:[^\s:]*:)?(\d+:\d+): (.*)$`)

// remoteError describes a failure of remote code.
func remoteError(phase string, err error, trace *panicTrace) *channel.RemoteError {
	re := &channel.RemoteError{}
	var p interp.Panic
	if errors.As(err, &p) {
		re.Message = fmt.Sprintf("panic: %v", p.Value)
		if trace != nil {
			re.Where, re.Stack = trace.where()
		}
		if re.Stack == "" {
			re.Stack = string(p.Stack)
		}
	} else {
		re.Message = err.Error()
		first, _, _ := strings.Cut(re.Message, "\n")
		if m := posRE.FindStringSubmatch(first); m != nil {
			re.Where = remoteFile + ":" + m[1]
		}
	}
	if phase != "run" {
		re.Message = phase + ": " + re.Message
	}
	return re
}

// panicTrace forwards interpreter diagnostics to the worker's stderr and
// keeps the "LINE:COL: panic: ..." lines yaegi prints while a panic unwinds
// interpreted frames, to say where remote code panicked.
type panicTrace struct {
	out   io.Writer
	mu    sync.Mutex
	lines []string
}

var panicLineRE = regexp.MustCompile(`(\d+:\d+): panic: (\S+?)(?:\(\.\.\.\))?$`)

func (t *panicTrace) Write(b []byte) (int, error) {
	t.mu.Lock()
	for _, l := range bytes.Split(b, []byte("\n")) {
		if panicLineRE.Match(l) && len(t.lines) < 100 {
			t.lines = append(t.lines, string(l))
		}
	}
	t.mu.Unlock()
	if t.out != nil {
		return t.out.Write(b)
	}
	return len(b), nil
}

func (t *panicTrace) stack() string {
	if t == nil {
		return ""
	}
	_, s := t.where()
	return s
}

func (t *panicTrace) where() (where, stack string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "", ""
	}
	// yaegi reports the position of the interpreted function that was
	// running, not of the statement: name the function too.
	m := panicLineRE.FindStringSubmatch(t.lines[0])
	return remoteFile + ":" + m[1] + " in " + m[2], strings.Join(t.lines, "\n")
}

// serveListenerInBackground serves the gateway protocol on ln until the
// connection of the execution that called it ends. It is godist.ServeListener
// in remote code, used by the seed's socket-server example.
func (w *worker) serveListenerInBackground(ln net.Listener) {
	w.wg.Go(func() {
		if err := ServeListener(w.ctx, ln, w.opts); err != nil {
			w.opts.Logf("gateway: background socket server on %s: %v", ln.Addr(), err)
		}
	})
}

// clearValue is the clear builtin for remote code: it empties a map or
// zeroes a slice's elements.
func clearValue(x any) {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Map:
		v.Clear()
	case reflect.Slice:
		for i := range v.Len() {
			v.Index(i).SetZero()
		}
	default:
		panic(fmt.Sprintf("invalid argument: clear(%T): want a map or a slice", x))
	}
}
