//go:build unix

package gateway

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/godist/godist/channel"
)

// remoteCodeCases are programs users write, with what Go 1.22+ prints
// for them (fmt.Sprint of the value sent) or the refusal godist gives:
// the message part and where ("remote.go:LINE").
var remoteCodeCases = []struct {
	name, src string
	want      string // fmt.Sprint of the value sent
	refused   string // part of the compile error, if refused
	where     string // prefix of RemoteError.Where when refused
}{
	{name: "closures to godist.Go", want: "[0 1 2]", src: `import "godist"
import "sort"
import "sync"
var mu sync.Mutex
var wg sync.WaitGroup
var got []int
for i := 0; i < 3; i++ {
	wg.Add(1)
	godist.Go(func() { defer wg.Done(); mu.Lock(); got = append(got, i); mu.Unlock() })
}
wg.Wait()
sort.Ints(got)
channel.Send(got)`},
	{name: "k := i to godist.Go", want: "[0 1 2]", src: `import "godist"
import "sort"
import "sync"
var mu sync.Mutex
var wg sync.WaitGroup
var got []int
for i := 0; i < 3; i++ {
	k := i
	wg.Add(1)
	godist.Go(func() { defer wg.Done(); mu.Lock(); got = append(got, k); mu.Unlock() })
}
wg.Wait()
sort.Ints(got)
channel.Send(got)`},
	{name: "time.AfterFunc", want: "[0 10 20]", src: `import "sort"
import "sync"
import "time"
var mu sync.Mutex
var wg sync.WaitGroup
var got []int
for i := 0; i < 3; i++ {
	k := i * 10
	wg.Add(1)
	time.AfterFunc(time.Millisecond, func() { defer wg.Done(); mu.Lock(); got = append(got, k); mu.Unlock() })
}
wg.Wait()
sort.Ints(got)
channel.Send(got)`},
	{name: "go statement", want: "[0 1 2]", src: `import "sort"
import "sync"
var mu sync.Mutex
var wg sync.WaitGroup
var got []int
for i := 0; i < 3; i++ {
	wg.Add(1)
	go func() { defer wg.Done(); mu.Lock(); got = append(got, i); mu.Unlock() }()
}
wg.Wait()
sort.Ints(got)
channel.Send(got)`},
	{name: "per-iteration 3-clause", want: "[0 1 2]", src: `var fs []func() int
for i := 0; i < 3; i++ {
	fs = append(fs, func() int { return i })
}
var got []int
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "body changes the loop variable", want: "[1 3 5]", src: `var fs []func() int
for i := 0; i < 6; i++ {
	fs = append(fs, func() int { return i })
	i++
}
var got []int
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "continue copies back", want: "[2 5 8 11]", src: `var fs []func() int
for i := 0; i < 10; i++ {
	if i%3 != 0 {
		continue
	}
	i += 3
	fs = append(fs, func() int { return i })
	i--
	if true {
		continue
	}
}
var got []int
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "labeled continue from a nested loop", want: "[0 10 20]", src: `var fs []func() int
outer:
for i := 0; i < 3; i++ {
	for j := 0; j < 3; j++ {
		if j == 1 {
			continue outer
		}
		fs = append(fs, func() int { return i*10 + j })
	}
}
var got []int
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "range value", want: "[a b c]", src: `var fs []func() string
for _, v := range []string{"a", "b", "c"} {
	fs = append(fs, func() string { return v })
}
var got []string
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "range key and value into a map of funcs", want: "[0a 1b]", src: `import "sort"
m := map[string]func() string{}
for k, v := range []string{"a", "b"} {
	m[v] = func() string { return fmt.Sprint(k) + v }
}
var got []string
for _, f := range m {
	got = append(got, f())
}
sort.Strings(got)
channel.Send(got)`},
	{name: "two variables", want: "[0/9 1/8 2/7]", src: `var fs []func() string
for i, j := 0, 9; i < 3; i, j = i+1, j-1 {
	fs = append(fs, func() string { return fmt.Sprint(i, "/", j) })
}
var got []string
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "range over int", want: "[0 1 2]", src: `var got []int
for i := range 3 {
	got = append(got, i)
}
channel.Send(got)`},
	{name: "range over int closures", want: "[7 7 7]", src: `var fs []func() int64
n := int64(3)
for i := range n {
	fs = append(fs, func() int64 { return i })
	i = 7
}
var got []int64
for _, f := range fs {
	got = append(got, f())
}
channel.Send(got)`},
	{name: "range over int without variable", want: "3", src: `c := 0
for range 3 {
	c++
}
channel.Send(c)`},
	{name: "min and max", want: "[1 7 a 2 4.5]", src: `x, y := 2.5, 1.0
a, b := 9, 7
var f float64 = min(2, 3)
channel.Send([]any{min(x, y), max(3, b, 5), min("b", "a"), f, max(x, 4.5, y)})
_ = a`},
	{name: "clear", want: "[0 [0 0]]", src: `m := map[string]int{"a": 1}
s := []int{1, 2}
clear(m)
clear(s)
channel.Send([]any{len(m), s})`},
	{name: "errors.As with a standard type", want: "true", src: `import "errors"
import "io/fs"
import "os"
_, err := os.Open("/nonexistent/godist")
var pe *fs.PathError
channel.Send(errors.As(err, &pe) && pe.Path == "/nonexistent/godist")`},
	{name: "errors.Is", want: "true", src: `import "errors"
var ErrX = errors.New("x")
channel.Send(errors.Is(fmt.Errorf("wrapped: %w", ErrX), ErrX))`},
	{name: "own error type, type switch", want: "[7 0 -1]", src: `type MyErr struct{ Code int }
func (e *MyErr) Error() string { return "my" }
`, refused: "", where: ""},
	{name: "generic function", want: "[3.5 ab]", src: `package main

type Number interface{ ~int | ~float64 | ~string }

func Sum[T Number](s []T) T {
	var t T
	for _, x := range s {
		t += x
	}
	return t
}

func main() {
	channel.Send([]any{Sum([]float64{1.5, 2}), Sum([]string{"a", "b"})})
}
`},
	{name: "range over func", refused: "range over a function", where: "remote.go:3:1", src: `seq := func(yield func(int) bool) {}
n := 0
for x := range seq {
	n += x
}`},
	{name: "errors.As with own type", refused: "errors.As with *MyErr", where: "remote.go:11:6", src: `package main

import "errors"

type MyErr struct{ Code int }

func (e *MyErr) Error() string { return "my" }

func main() {
	var me *MyErr
	_ = errors.As(nil, &me)
}
`},
	{name: "slices generics", refused: "slices.Sort", where: "remote.go:3:1", src: `import "slices"
s := []int{3, 1}
slices.Sort(s)`},
	{name: "maps generics", refused: "maps.Keys", where: "remote.go:3:", src: `import "maps"
m := map[string]int{}
for k := range maps.Keys(m) {
	_ = k
}`},
	{name: "range over int of unknown type", refused: "range", where: "", src: `import "os"
for i := range len(os.Args) + os.Getpid() {
	_ = i
}`},
}

func init() {
	// Filled here to keep the table readable: a type switch on an own
	// error type works (use it instead of errors.As).
	for i := range remoteCodeCases {
		if remoteCodeCases[i].name == "own error type, type switch" {
			remoteCodeCases[i].src = `package main

import "fmt"

type MyErr struct{ Code int }

func (e *MyErr) Error() string { return "my" }

func find(err error) int {
	switch e := err.(type) {
	case nil:
		return 0
	case *MyErr:
		return e.Code
	case interface{ Timeout() bool }:
		return -2
	default:
		_ = e
		return -1
	}
}

func main() {
	channel.Send([]int{find(&MyErr{Code: 7}), find(nil), find(fmt.Errorf("x"))})
}
`
		}
	}
}

// TestRemoteCodeSemantics runs what yaegi gets wrong, or lacks, over real
// gateways: each program either gives Go's answer or is refused with a
// compile error naming its line.
func TestRemoteCodeSemantics(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		g := tr.open(t, "")
		for _, tt := range remoteCodeCases {
			src := tt.src
			if !strings.HasPrefix(src, "package") && strings.Contains(src, "fmt.") && !strings.Contains(src, `"fmt"`) {
				src = "import \"fmt\"\n" + src
				if tt.where != "" {
					t.Fatalf("%s: fix the case: where moves with the import added", tt.name)
				}
			}
			ch, err := g.RemoteExec(ctxT(t), src)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ch.Receive(ctxT(t))
			if tt.refused == "" {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
					continue
				}
				if got := fmt.Sprint(v); got != tt.want {
					t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
				}
				if err := ch.Wait(ctxT(t)); err != nil {
					t.Errorf("%s: wait: %v", tt.name, err)
				}
				continue
			}
			var re *channel.RemoteError
			if !errors.As(err, &re) {
				t.Errorf("%s: got %v, %v; want a refusal", tt.name, v, err)
				continue
			}
			if !strings.Contains(re.Message, tt.refused) || !strings.HasPrefix(re.Where, tt.where) {
				t.Errorf("%s: refused with %q at %q, want %q at %q", tt.name, re.Message, re.Where, tt.refused, tt.where)
			}
		}
	})
}

// TestRewriteKeepsLines checks that the rewritten source parses and keeps
// every line where it was.
func TestRewriteKeepsLines(t *testing.T) {
	for _, tt := range remoteCodeCases {
		wrapped, _, err := wrapSource(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		rw, err := rewriteSource(wrapped)
		if err != nil {
			if tt.refused == "" {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "x.go", rw.src, 0); err != nil {
			t.Errorf("%s: rewritten source does not parse: %v\n%s", tt.name, err, rw.src)
		}
		if a, b := strings.Count(wrapped, "\n"), strings.Count(rw.src, "\n"); a != b {
			t.Errorf("%s: %d lines became %d", tt.name, a, b)
		}
	}
}

func TestColMap(t *testing.T) {
	// "ab" + insert "XYZ" at col 3 + "cd": rewritten "abXYZcd"
	m := colMap{1: {{col: 3, ins: 3}}, 2: {{col: 1, del: 2, ins: 5}}}
	for _, tt := range []struct{ line, col, want int }{
		{1, 1, 1}, {1, 2, 2}, {1, 3, 3}, {1, 5, 3}, {1, 6, 3}, {1, 7, 4},
		{2, 1, 1}, {2, 6, 3}, {3, 9, 9},
	} {
		if got := m.original(tt.line, tt.col); got != tt.want {
			t.Errorf("original(%d, %d) = %d, want %d", tt.line, tt.col, got, tt.want)
		}
	}
}

func init() {
	remoteCodeCases = append(remoteCodeCases, struct {
		name, src string
		want      string
		refused   string
		where     string
	}{name: "time only for AfterFunc", want: "fired", src: `import "time"
done := make(chan string)
time.AfterFunc(0, func() { done <- "fired" })
channel.Send(<-done)`})
}

// TestFanOut1000 is a 1000-channel fan-out written the natural way: a
// loop making a channel and a goroutine per iteration that uses both loop
// variables. Before the rewrite, 998 channels got the wrong value.
func TestFanOut1000(t *testing.T) {
	for _, tr := range transports(t) {
		if tr.name != "popen" && tr.name != "pipe" {
			continue
		}
		t.Run(tr.name, func(t *testing.T) {
			g := tr.open(t, "")
			ctx := ctxT(t)
			ch, err := g.RemoteExec(ctx, `import "godist"
const n = 1000
sess := channel.Raw().Session()
chans := make([]godist.RawChannel, n)
for i := 0; i < n; i++ {
	c, err := sess.NewChannel()
	if err != nil {
		panic(err)
	}
	chans[i] = c
}
channel.Send(chans)
for i, c := range chans {
	godist.Go(func() {
		c.Send(godist.Context(), i)
		c.Close()
	})
}`)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ch.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			list, _ := v.([]any)
			if len(list) != 1000 {
				t.Fatalf("got %d channels", len(list))
			}
			wrong := 0
			for i, x := range list {
				c := x.(*channel.Channel)
				got, err := c.Receive(ctx)
				if err != nil || got != int64(i) {
					wrong++
				}
			}
			if wrong > 0 {
				t.Errorf("%d of 1000 channels got the wrong value", wrong)
			}
			if err := ch.Wait(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}
