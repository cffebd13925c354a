//go:build unix

package gateway

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/channel"
)

func TestInfo(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		in, err := g.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if in.GOOS == "" || in.GOARCH == "" || in.NumCPU < 1 || in.Version != Version || in.Hostname == "" || in.Cwd == "" {
			t.Errorf("info = %+v", in)
		}
		if tr.process == (in.PID == os.Getpid()) {
			t.Errorf("info pid %d, test pid %d, process transport %v", in.PID, os.Getpid(), tr.process)
		}
	})
}

func TestRemoteExecSync(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)
		if err := g.RemoteExecSync(ctx, ""); err != nil {
			t.Fatalf("empty source: %v", err)
		}
		if err := g.RemoteExecSync(ctx, "x := 1\n_ = x\nchannel.Send(x)"); err != nil {
			t.Fatalf("sending source: %v", err)
		}
		err := g.RemoteExecSync(ctx, "x := 1\npanic(\"boom\")\n_ = x")
		var re *channel.RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("panicking source: error %v, want *channel.RemoteError", err)
		}
		if !strings.Contains(re.Message, "boom") || re.Where != "remote.go:1:1 in main.main" {
			t.Errorf("remote error %+v, want message with boom in main.main at remote.go:1", re)
		}
	})
}

func TestRemoteExecEcho(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)
		ch, err := g.RemoteExec(ctx, `
for {
	v, err := channel.Receive()
	if err != nil {
		break
	}
	if err := channel.Send(v); err != nil {
		panic(err)
	}
}`)
		if err != nil {
			t.Fatal(err)
		}
		values := []any{int64(42), "hello", true, nil, 1.5, []byte("raw"), []any{int64(1), "two"},
			map[string]any{"k": int64(7)}}
		for _, v := range values {
			if err := ch.Send(ctx, v); err != nil {
				t.Fatal(err)
			}
			got, err := ch.Receive(ctx)
			if err != nil {
				t.Fatalf("echo of %#v: %v", v, err)
			}
			if !equalValues(got, v) {
				t.Errorf("echo of %#v = %#v", v, got)
			}
		}
		if err := ch.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Receive(ctx); !errors.Is(err, io.EOF) {
			t.Errorf("after close: %v, want io.EOF", err)
		}
	})
}

func equalValues(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !equalValues(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestRemoteExecForms(t *testing.T) {
	tests := []struct {
		name, src string
		want      any
	}{
		{"statements", `channel.Send(int64(1) + 2)`, int64(3)},
		{"imports", "import \"strings\"\nimport (\n\t\"fmt\"\n)\nchannel.Send(strings.ToUpper(fmt.Sprint(\"x\")))", "X"},
		{"file", "package main\n\nimport \"fmt\"\n\nfunc f() string { return fmt.Sprint(\"f\") }\n\nfunc main() {\n\tchannel.Send(f())\n}\n", "f"},
		{"godist import", "import \"godist\"\nchannel.Send(godist.Version())", Version},
		{"godist channel", "import \"godist\"\ngodist.Channel().Send(\"same\")", "same"},
		{"os/exec", "import \"os/exec\"\nout, err := exec.Command(\"echo\", \"hi\").Output()\nif err != nil { panic(err) }\nchannel.Send(string(out))", "hi\n"},
	}
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		for _, tt := range tests {
			ctx := ctxT(t)
			ch, err := g.RemoteExec(ctx, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ch.Receive(ctx)
			if err != nil || got != tt.want {
				t.Errorf("%s: got %#v, %v; want %#v", tt.name, got, err, tt.want)
			}
			if err := ch.Wait(ctx); err != nil {
				t.Errorf("%s: wait: %v", tt.name, err)
			}
		}
	})
}

func TestRemoteErrors(t *testing.T) {
	tests := []struct {
		name, src, msg, where string
	}{
		{"compile", "x := 1\nundefinedThing(x)", "undefined", "remote.go:2:1"},
		{"compile on line 1", "x := undefinedThing", "undefined", "remote.go:1:6"},
		{"compile after imports", "import \"fmt\"\nx := undefinedThing", "undefined", "remote.go:2:6"},
		{"parse", "x := (", "", ""},
		{"panic in file", "package main\n\nfunc main() {\n\tvar m map[string]int\n\tm[\"x\"] = 1\n}\n", "panic", "remote.go:4:6 in main.main"},
		{"panic in godist.Go", "import \"godist\"\ngodist.Go(func() {\n\tpanic(\"in goroutine\")\n})", "in goroutine", "remote.go:3:"},
		{"range over func", "f := func(func(int) bool) {}\nfor i := range f {\n\t_ = i\n}", "range over a function", "remote.go:2:1"},
		{"wrong package", "package foo\nfunc main() {}", "package main", ""},
		{"close with error", "channel.CloseWithError(\"told you\")", "told you", ""},
	}
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		for _, tt := range tests {
			ctx := ctxT(t)
			err := g.RemoteExecSync(ctx, tt.src)
			var re *channel.RemoteError
			if !errors.As(err, &re) {
				t.Errorf("%s: error %v, want *channel.RemoteError", tt.name, err)
				continue
			}
			if !strings.Contains(re.Message, tt.msg) || !strings.HasPrefix(re.Where, tt.where) {
				t.Errorf("%s: remote error %q at %q, want %q at %q", tt.name, re.Message, re.Where, tt.msg, tt.where)
			}
		}
		// The worker survived all of that.
		if err := g.RemoteExecSync(ctxT(t), `channel.Send(1)`); err != nil {
			t.Errorf("after errors: %v", err)
		}
	})
}

func TestConcurrentExecutions(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				ch, err := g.RemoteExec(ctx, `v, _ := channel.Receive(); channel.Send(v.(int64) * 2)`)
				if err != nil {
					errs <- err
					return
				}
				if err := ch.Send(ctx, i); err != nil {
					errs <- err
					return
				}
				v, err := ch.Receive(ctx)
				if err != nil || v != int64(2*i) {
					errs <- errors.New("bad reply")
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestOneshotAndInfoCounters(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)
		dir := t.TempDir()
		flag := filepath.Join(dir, "ran")
		src := "import \"os\"\nimport \"time\"\ntime.Sleep(50 * time.Millisecond)\nos.WriteFile(" + quote(flag) + ", []byte(\"x\"), 0o644)"
		if err := g.RemoteExecOneshot(ctx, src); err != nil {
			t.Fatal(err)
		}
		if err := g.RemoteExecOneshot(ctx, "nope("); err == nil {
			t.Error("oneshot of bad source: no error")
		}
		waitFor(t, func() bool { _, err := os.Stat(flag); return err == nil })

		ch, err := g.RemoteExec(ctx, `channel.Receive()`)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			in, err := g.Info(ctx)
			return err == nil && in.RunningExecutions == 1 && in.OpenChannels >= 2
		})
		ch.Close()
		waitFor(t, func() bool {
			in, err := g.Info(ctx)
			return err == nil && in.RunningExecutions == 0
		})
	})
}

func quote(s string) string { return "`" + s + "`" }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRemoteImport(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)
		files := map[string]string{
			"greet.go": "package greet\n\nimport \"strings\"\n\nfunc Hello(n string) string { return \"hello \" + strings.ToUpper(n) }\n",
			"more.go":  "package greet\n\nconst Answer = 42\n",
		}
		if err := g.RemoteImport(ctx, "example.com/greet", files); err != nil {
			t.Fatal(err)
		}
		ch, err := g.RemoteExec(ctx, "import \"example.com/greet\"\nchannel.Send(greet.Hello(\"go\"))\nchannel.Send(greet.Answer)")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []any{"hello GO", int64(42)} {
			if v, err := ch.Receive(ctx); err != nil || v != want {
				t.Errorf("got %#v, %v; want %#v", v, err, want)
			}
		}
		if err := g.RemoteImport(ctx, "../evil", files); err == nil {
			t.Error("import path ../evil accepted")
		}
		if err := g.RemoteImport(ctx, "x", map[string]string{"../a.go": "package x"}); err == nil {
			t.Error("file name ../a.go accepted")
		}
	})
}

// The remote-side API: bindings both ways, timeouts, godist helpers.
func TestScriptChannelAPI(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "//id=api")
		ctx := ctxT(t)
		ch, err := g.RemoteExec(ctx, `import "errors"
import "time"
import "godist"

_, err := channel.ReceiveTimeout(10 * time.Millisecond)
channel.Send(errors.Is(err, godist.ErrTimeout))
v, err := channel.GetTimeout("nothing", 10*time.Millisecond)
channel.Send(v == nil && err != nil)
x, _ := channel.Get("x")
channel.Set("y", x.(int64)+1)
channel.Send(godist.ID())
channel.Send(godist.Info().PID > 0)
channel.Send(channel.Context() == godist.Context())
channel.Send(channel.Raw().ID() > 0)
channel.Send(channel.IsClosed())
`)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []any{true, true} {
			if v, err := ch.Receive(ctx); v != want {
				t.Errorf("value %d: %v, %v; want %v", i, v, err, want)
			}
		}
		if err := ch.Set("x", 41); err != nil {
			t.Fatal(err)
		}
		if v, err := ch.Get(ctx, "y"); v != int64(42) {
			t.Errorf("y = %v, %v", v, err)
		}
		for i, want := range []any{"api", true, true, true, false} {
			if v, err := ch.Receive(ctx); v != want {
				t.Errorf("value %d: %v, %v; want %v", i+2, v, err, want)
			}
		}
		if err := ch.Wait(ctx); err != nil {
			t.Error(err)
		}
	})
}

// Channels travel inside values both ways (execnet's
// test_channel_passing / remote_exec_channel_anonymous).
func TestChannelsOverChannels(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		ctx := ctxT(t)
		ch, err := g.RemoteExec(ctx, `import "godist"
ctx := godist.Context()
c, err := channel.Raw().Session().NewChannel()
if err != nil {
	panic(err)
}
channel.Send(c)
c.Send(ctx, "on the new channel")
c.Close()
v, _ := channel.Receive()
theirs := v.(godist.RawChannel)
w, _ := theirs.Receive(ctx)
theirs.Send(ctx, w.(string)+" and back")
theirs.Wait(ctx)`)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ch.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := v.(*channel.Channel)
		if !ok {
			t.Fatalf("got %T, want *channel.Channel", v)
		}
		if v, err := c.Receive(ctx); v != "on the new channel" {
			t.Errorf("new channel: %v, %v", v, err)
		}
		mine, err := g.Session().NewChannel()
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Send(ctx, mine); err != nil {
			t.Fatal(err)
		}
		if err := mine.Send(ctx, "there"); err != nil {
			t.Fatal(err)
		}
		if v, err := mine.Receive(ctx); v != "there and back" {
			t.Errorf("our channel: %v, %v", v, err)
		}
		mine.Close()
		if err := ch.Wait(ctx); err != nil {
			t.Error(err)
		}
	})
}

// Remote code can open gateways of its own (a worker of the worker).
func TestNestedGateway(t *testing.T) {
	g := openSpec(t, "popen")
	ctx := ctxT(t)
	ch, err := g.RemoteExec(ctx, `import "godist"
ctx := godist.Context()
specs, err := godist.ParseSpec("popen//id=inner")
if err != nil {
	panic(err)
}
inner, err := godist.Open(ctx, specs[0])
if err != nil {
	panic(err)
}
defer inner.Exit(ctx)
outer, _ := inner.Info(ctx)
c, err := inner.RemoteExec(ctx, "import \"godist\"\nchannel.Send(godist.ID())")
if err != nil {
	panic(err)
}
v, err := c.Receive(ctx)
if err != nil {
	panic(err)
}
channel.Send(v)
channel.Send(outer.PID != godist.Info().PID)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []any{"inner", true} {
		if v, err := ch.Receive(ctx); v != want {
			t.Errorf("got %v, %v; want %v", v, err, want)
		}
	}
	if err := ch.Wait(ctx); err != nil {
		t.Error(err)
	}
}
