package gateway

import (
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strconv"
	"strings"
)

// Source rewriting: remote code is Go 1.22+ code, yaegi interprets Go
// ≈1.21 with bugs that give wrong answers without an error. Before the
// interpreter sees the source, rewriteSource changes it, text edits on
// the same lines so that positions stay the caller's:
//
//   - Go 1.22 loop variables: a 3-clause loop declaring variables gets a
//     per-iteration copy of them at the top of its body, copied back to
//     the loop's own variables at the end of the iteration and before
//     every continue aimed at it (so that the post statement sees what
//     the body did, and a closure of iteration k never sees the
//     increment of iteration k+1, as in Go 1.22); a range loop gets a
//     fresh copy of its key and value. Only loops whose body can let a
//     variable escape (a func literal, go, defer, &, a method value) are
//     changed: in the others per-iteration variables are unobservable.
//   - Closures: a func literal given straight to compiled code (an
//     argument, a conversion operand, an element of a composite literal of
//     a compiled type) is run by yaegi against the live frame of its
//     creator, so every closure made in a loop sees the last iteration's
//     variables (yaegi issues 1594, 1713) even with `k := i`; and a
//     closure returning writes its creator's frame (a data race, and a
//     stale closure value where the creator loops). Every func literal
//     not called on the spot is made inside a call of
//     its own, see funcLit.
//   - range over an integer (Go 1.22) whose type the checker knows
//     becomes a 3-clause loop over a hidden counter.
//   - clear becomes godist's reflect-based clear; min and max of a known
//     type become an inline function literal; time.AfterFunc becomes
//     godist's, whose func's panic fails the execution instead of the
//     worker.
//
// What cannot be rewritten safely is refused with an error naming the
// line: range over a function, errors.As with a target type declared in
// the remote code (the interpreter panics or never matches). See
// doc_remote.go for the whole list.

// hidden is the prefix of names the rewriter declares.
const hidden = "__godist_"

// srcEdit replaces src[off:off+del] with text. Edits never add or remove
// newlines, so line numbers stay those of the source.
type srcEdit struct {
	off, del int
	text     string
}

// colMap maps columns of the rewritten text back to the source's.
type colMap map[int][]colEdit // line -> edits on it, by column

type colEdit struct {
	col, del, ins int // 1-based column in the source
}

// original returns the source column of column col of the rewritten line.
func (m colMap) original(line, col int) int {
	acc := 0
	for _, e := range m[line] {
		start := e.col + acc // where the edit begins in the rewritten text
		if col < start {
			break
		}
		if col < start+e.ins {
			return e.col
		}
		acc += e.ins - e.del
	}
	return max(col-acc, 1)
}

// RewriteError is a construct of remote code godist refuses to run
// because the interpreter would run it wrongly.
type rewriteError struct {
	pos token.Position
	msg string
}

func (e *rewriteError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.pos.Line, e.pos.Column, e.msg)
}

type rewriter struct {
	fset    *token.FileSet
	src     string
	file    *ast.File
	info    *types.Info
	imports map[string]string // local name -> import path
	edits   []srcEdit
	refuse  []error
	n       int // for unique hidden names
	// unknownRanges are range statements over a value of unknown type
	// (from an import): if the interpreter chokes, they are the suspects.
	unknownRanges []token.Pos
}

// rewriteResult is what rewriteSource did.
type rewriteResult struct {
	src           string
	cols          colMap
	unknownRanges []string // "LINE:COL" of range statements over values of unknown type
}

// rewriteSource applies the fixes above to a whole package main file. A
// file that does not parse is returned as it is (the interpreter reports
// the syntax error). The error lists the refused constructs.
func rewriteSource(src string) (rewriteResult, error) {
	res := rewriteResult{src: src}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, remoteFile, src, 0)
	if err != nil {
		return res, nil
	}
	r := &rewriter{fset: fset, src: src, file: f, imports: map[string]string{}}
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		r.imports[name] = path
	}
	r.check()
	r.walk()
	if len(r.refuse) > 0 {
		return res, errors.Join(r.refuse...)
	}
	res.src, res.cols = r.apply()
	for _, p := range r.unknownRanges {
		pos := fset.Position(p)
		res.unknownRanges = append(res.unknownRanges, fmt.Sprintf("%d:%d", pos.Line, pos.Column))
	}
	return res, nil
}

type noImporter struct{}

func (noImporter) Import(path string) (*types.Package, error) {
	return nil, fmt.Errorf("not loaded: %s", path)
}

// check type-checks the file as far as it can without its imports
// (the worker has no Go toolchain to load them from): types built from
// the language and the file's own declarations are known, those from
// imported packages are invalid.
func (r *rewriter) check() {
	r.info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{GoVersion: "go1.22", Importer: noImporter{}, Error: func(error) {}}
	conf.Check("main", r.fset, []*ast.File{r.file}, r.info)
}

func (r *rewriter) offset(p token.Pos) int { return r.fset.Position(p).Offset }

func (r *rewriter) insert(p token.Pos, text string) {
	r.edits = append(r.edits, srcEdit{off: r.offset(p), text: text})
}

func (r *rewriter) replace(from, to token.Pos, text string) {
	r.edits = append(r.edits, srcEdit{off: r.offset(from), del: r.offset(to) - r.offset(from), text: text})
}

func (r *rewriter) refusef(p token.Pos, format string, args ...any) {
	r.refuse = append(r.refuse, &rewriteError{pos: r.fset.Position(p), msg: fmt.Sprintf(format, args...)})
}

func (r *rewriter) name(what string) string {
	r.n++
	return hidden + what + strconv.Itoa(r.n)
}

// apply performs the edits, in source order.
func (r *rewriter) apply() (string, colMap) {
	sort.SliceStable(r.edits, func(i, j int) bool { return r.edits[i].off < r.edits[j].off })
	var b strings.Builder
	cols := colMap{}
	tf := r.fset.File(r.file.Pos())
	last := 0
	for _, e := range r.edits {
		if e.off < last {
			panic("gateway: rewrite: overlapping edits")
		}
		b.WriteString(r.src[last:e.off])
		b.WriteString(e.text)
		last = e.off + e.del
		pos := tf.Position(tf.Pos(e.off))
		cols[pos.Line] = append(cols[pos.Line], colEdit{col: pos.Column, del: e.del, ins: len(e.text)})
	}
	b.WriteString(r.src[last:])
	return b.String(), cols
}

// loopInfo is what the walk learns about one loop.
type loopInfo struct {
	node      ast.Stmt // *ast.ForStmt or *ast.RangeStmt
	label     string
	continues []*ast.BranchStmt
}

func (r *rewriter) walk() {
	var stack []ast.Node
	loops := map[ast.Stmt]*loopInfo{}
	var order []*loopInfo
	ast.Inspect(r.file, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		var parent ast.Node
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			li := &loopInfo{node: n.(ast.Stmt)}
			if ls, ok := parent.(*ast.LabeledStmt); ok {
				li.label = ls.Label.Name
			}
			loops[li.node] = li
			order = append(order, li)
		case *ast.BranchStmt:
			if n.Tok == token.CONTINUE {
				if li := continueTarget(stack, n, loops); li != nil {
					li.continues = append(li.continues, n)
				}
			}
		case *ast.FuncLit:
			r.funcLit(n, parent)
		case *ast.CallExpr:
			r.call(n)
		case *ast.TypeSwitchStmt:
			r.typeSwitch(n)
		case *ast.GoStmt:
			if _, ok := n.Call.Fun.(*ast.FuncLit); ok {
				// The literal's frame slot is then the wrapper's, which
				// nobody reads after the goroutine started: yaegi's
				// goroutine writes it back when it returns.
				r.insert(n.Pos(), "func() { ")
				r.insert(n.End(), " }()")
			}
		}
		return true
	})
	for _, li := range order {
		switch l := li.node.(type) {
		case *ast.ForStmt:
			r.forLoop(l, li)
		case *ast.RangeStmt:
			r.rangeLoop(l)
		}
	}
}

// continueTarget finds the loop a continue statement continues.
func continueTarget(stack []ast.Node, br *ast.BranchStmt, loops map[ast.Stmt]*loopInfo) *loopInfo {
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return nil
		case *ast.ForStmt, *ast.RangeStmt:
			li := loops[n.(ast.Stmt)]
			if br.Label == nil || li.label == br.Label.Name {
				return li
			}
		}
	}
	return nil
}

// funcLit makes a func literal that is not called on the spot in a
// function call of its own:
//
//	func() TYPE { return FUNCLIT }()
//
// yaegi runs a func literal given straight to compiled code against the
// live frame of its creator (every closure made in a loop sees the last
// iteration's variables), and a closure made by the interpreter writes its
// creator's frame when it returns (racing with the creator, and putting
// back a stale value of the literal's slot while the creator loops). In a
// frame of its own, made per evaluation, neither can happen.
func (r *rewriter) funcLit(fl *ast.FuncLit, parent ast.Node) {
	if c, ok := parent.(*ast.CallExpr); ok && c.Fun == fl {
		// Run at once; or by go, where yaegi gets a literal right and
		// races on the value of anything else.
		return
	}
	typ := r.src[r.offset(fl.Type.Pos()):r.offset(fl.Type.End())]
	if strings.Contains(typ, "//") || strings.Contains(typ, "/*") {
		return
	}
	typ = strings.ReplaceAll(typ, "\n", " ") // lines stay where they are
	r.insert(fl.Pos(), "func() "+typ+" { return ")
	r.insert(fl.End(), " }()")
}

// escapes reports whether a loop variable of this body can outlive its
// iteration: only then are per-iteration variables observable.
func escapes(body *ast.BlockStmt, names map[string]bool) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit, *ast.GoStmt, *ast.DeferStmt:
			found = true
		case *ast.UnaryExpr:
			found = n.Op == token.AND
		case *ast.CallExpr:
			// x.M(...) called at once: the receiver does not escape
			// through the call expression itself; look at the arguments.
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				for _, a := range n.Args {
					ast.Inspect(a, func(m ast.Node) bool {
						if !found {
							found = escapesExpr(m, names)
						}
						return !found
					})
				}
				ast.Inspect(sel.X, func(m ast.Node) bool {
					if !found {
						if _, isSel := m.(*ast.SelectorExpr); !isSel {
							found = escapesExpr(m, names)
						}
					}
					return !found
				})
				return false
			}
		case *ast.SelectorExpr:
			// A method value x.M keeps &x for a pointer method.
			if id, ok := n.X.(*ast.Ident); ok && names[id.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}

func escapesExpr(n ast.Node, names map[string]bool) bool {
	switch n := n.(type) {
	case *ast.FuncLit:
		return true
	case *ast.UnaryExpr:
		return n.Op == token.AND
	case *ast.SelectorExpr:
		id, ok := n.X.(*ast.Ident)
		return ok && names[id.Name]
	}
	return false
}

// forLoop gives a 3-clause loop's variables per-iteration copies.
func (r *rewriter) forLoop(l *ast.ForStmt, li *loopInfo) {
	as, ok := l.Init.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE {
		return
	}
	var names []string
	set := map[string]bool{}
	for _, e := range as.Lhs {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			names = append(names, id.Name)
			set[id.Name] = true
		}
	}
	if len(names) == 0 || !escapes(l.Body, set) {
		return
	}
	outer := make([]string, len(names))
	inner := make([]string, len(names))
	var top strings.Builder
	for i, n := range names {
		outer[i], inner[i] = r.name("loop"), r.name("iter")
		fmt.Fprintf(&top, " %s := &%s;", outer[i], n)
	}
	fmt.Fprintf(&top, " %s := %s;", strings.Join(names, ", "), strings.Join(names, ", "))
	var back strings.Builder
	for i, n := range names {
		fmt.Fprintf(&top, " %s := &%s;", inner[i], n)
		fmt.Fprintf(&back, "*%s = *%s; ", outer[i], inner[i])
	}
	r.insert(l.Body.Lbrace+1, top.String())
	r.insert(l.Body.Rbrace, "; "+strings.TrimSuffix(back.String(), " "))
	for _, br := range li.continues {
		text := "continue"
		if br.Label != nil {
			text += " " + br.Label.Name
		}
		r.replace(br.Pos(), br.End(), "{ "+back.String()+text+" }")
	}
}

// rangeLoop gives a range loop's variables per-iteration copies, turns
// range over an integer into a 3-clause loop and refuses range over a
// function.
func (r *rewriter) rangeLoop(l *ast.RangeStmt) {
	tv, known := r.info.Types[l.X]
	var under types.Type
	if known && tv.Type != nil {
		under = tv.Type.Underlying()
	}
	if b, ok := under.(*types.Basic); ok && b.Info()&types.IsInteger != 0 {
		r.rangeInt(l, tv)
		return
	}
	if _, ok := under.(*types.Signature); ok {
		r.refusef(l.For, "range over a function (Go 1.23 iterator) is not supported in remote code: the interpreter implements Go 1.21; call the function with a yield func instead")
		return
	}
	if under == nil || under == types.Typ[types.Invalid] {
		r.unknownRanges = append(r.unknownRanges, l.For)
	}
	if l.Tok != token.DEFINE {
		return
	}
	var names []string
	set := map[string]bool{}
	for _, e := range []ast.Expr{l.Key, l.Value} {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			names = append(names, id.Name)
			set[id.Name] = true
		}
	}
	if len(names) == 0 || !escapes(l.Body, set) {
		return
	}
	list := strings.Join(names, ", ")
	blanks := strings.TrimSuffix(strings.Repeat("_, ", len(names)), ", ")
	r.insert(l.Body.Lbrace+1, fmt.Sprintf(" %s := %s; %s = %s;", list, list, blanks, list))
}

// rangeInt rewrites `for k := range n` as a loop over a hidden counter of
// n's type; k is declared afresh in each iteration.
func (r *rewriter) rangeInt(l *ast.RangeStmt, tv types.TypeAndValue) {
	t := types.Default(tv.Type)
	typ := types.TypeString(t, func(p *types.Package) string {
		if p.Name() == "main" {
			return ""
		}
		return p.Name()
	})
	i, n := r.name("i"), r.name("n")
	r.replace(l.For, l.X.Pos(), fmt.Sprintf("for %s, %s := %s(0), %s(", i, n, typ, typ))
	r.replace(l.X.End(), l.Body.Lbrace, fmt.Sprintf("); %s < %s; %s++ ", i, n, i))
	if l.Key == nil {
		return
	}
	if id, ok := l.Key.(*ast.Ident); ok && id.Name == "_" {
		return
	}
	src := r.src[r.offset(l.Key.Pos()):r.offset(l.Key.End())]
	if l.Tok == token.DEFINE {
		r.insert(l.Body.Lbrace+1, fmt.Sprintf(" %s := %s; _ = %s;", src, i, src))
	} else {
		r.insert(l.Body.Lbrace+1, fmt.Sprintf(" %s = %s;", src, i))
	}
}

// isBuiltin reports whether id names the predeclared object (not one the
// file declares).
func (r *rewriter) isBuiltin(id *ast.Ident) bool {
	_, ok := r.info.Uses[id].(*types.Builtin)
	if ok {
		return true
	}
	// Not resolved (e.g. in code the checker gave up on): trust the parser.
	return r.info.Uses[id] == nil && id.Obj == nil && r.file.Scope.Lookup(id.Name) == nil
}

// call rewrites calls of builtins yaegi lacks and refuses errors.As with
// a type of the remote code.
func (r *rewriter) call(c *ast.CallExpr) {
	switch fun := c.Fun.(type) {
	case *ast.Ident:
		switch fun.Name {
		case "clear":
			if r.isBuiltin(fun) {
				r.replace(fun.Pos(), fun.End(), "__godist.Clear")
			}
		case "min", "max":
			if r.isBuiltin(fun) {
				r.minMax(c, fun)
			}
		}
	case *ast.SelectorExpr:
		pkg, ok := fun.X.(*ast.Ident)
		if ok && pkg.Obj == nil && r.imports[pkg.Name] == "time" && fun.Sel.Name == "AfterFunc" {
			r.replace(fun.Pos(), fun.End(), "__godist.AfterFunc")
			return
		}
		if !ok || pkg.Obj != nil || r.imports[pkg.Name] != "errors" || fun.Sel.Name != "As" || len(c.Args) != 2 {
			return
		}
		tv, ok := r.info.Types[c.Args[1]]
		if !ok || tv.Type == nil {
			return
		}
		t := tv.Type
		for {
			p, ok := t.(*types.Pointer)
			if !ok {
				break
			}
			t = p.Elem()
		}
		if named, ok := t.(*types.Named); ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Name() == "main" {
			target := tv.Type
			if p, ok := target.(*types.Pointer); ok {
				target = p.Elem()
			}
			r.refusef(c.Pos(), "errors.As with %s, a type declared in remote code, does not work in the interpreter (it panics, or never matches once the error passed through compiled code such as fmt.Errorf); use a type assertion on the error (err.(%s)) before it is wrapped, or errors.Is with a sentinel error", types.TypeString(target, func(*types.Package) string { return "" }), types.TypeString(target, func(*types.Package) string { return "" }))
		}
	}
}

// minMax turns min(a, b, ...) of a known type T into an inline func
// literal evaluating each argument once, in order. A NaN argument does not
// make the result NaN as in Go: it is skipped where it comes after the
// first argument. A constant call becomes the argument it selects.
func (r *rewriter) minMax(c *ast.CallExpr, fun *ast.Ident) {
	tv, ok := r.info.Types[c]
	if !ok || tv.Type == nil || tv.Type.Underlying() == types.Typ[types.Invalid] || len(c.Args) == 0 || c.Ellipsis.IsValid() {
		return // the interpreter reports "undefined: min" at this line
	}
	if tv.Value != nil {
		for _, a := range c.Args {
			if at, ok := r.info.Types[a]; ok && at.Value != nil && constant.Compare(at.Value, token.EQL, tv.Value) {
				r.replace(c.Pos(), a.Pos(), "(")
				r.replace(a.End(), c.Rparen+1, ")")
				return
			}
		}
		return
	}
	typ := types.TypeString(types.Default(tv.Type), func(p *types.Package) string {
		if p.Name() == "main" {
			return ""
		}
		return p.Name()
	})
	op := "<"
	if fun.Name == "max" {
		op = ">"
	}
	m, v := r.name("m"), r.name("v")
	closeArg := func(i int) string {
		if i == 0 {
			return ")"
		}
		return fmt.Sprintf("); %s %s %s { %s = %s }", v, op, m, m, v)
	}
	r.replace(c.Pos(), c.Args[0].Pos(), fmt.Sprintf("func() %s { %s := %s(", typ, m, typ))
	for i := 1; i < len(c.Args); i++ {
		r.replace(c.Args[i-1].End(), c.Args[i].Pos(), fmt.Sprintf("%s; if %s := %s(", closeArg(i-1), v, typ))
	}
	last := len(c.Args) - 1
	r.replace(c.Args[last].End(), c.Rparen+1, fmt.Sprintf("%s; return %s }()", closeArg(last), m))
}

// ownType reports whether t is (a pointer to) a type declared in the
// remote code.
func ownType(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Name() == "main"
}

// typeSwitch rewrites a type switch with a case of a type declared in the
// remote code, which yaegi never matches, into a switch on type
// assertions, which it gets right:
//
//	switch v := x.(type) { case *T: ... }
//	{ switch t := (x); { case func() bool { _, ok := t.(*T); return ok }(): v := t.(*T); ... } }
func (r *rewriter) typeSwitch(ts *ast.TypeSwitchStmt) {
	own := false
	for _, st := range ts.Body.List {
		for _, e := range st.(*ast.CaseClause).List {
			if tv, ok := r.info.Types[e]; ok && tv.Type != nil && ownType(tv.Type) {
				own = true
			}
		}
	}
	if !own {
		return
	}
	var bound string
	var ta *ast.TypeAssertExpr
	switch a := ts.Assign.(type) {
	case *ast.ExprStmt:
		ta, _ = a.X.(*ast.TypeAssertExpr)
	case *ast.AssignStmt:
		if len(a.Lhs) == 1 && len(a.Rhs) == 1 {
			ta, _ = a.Rhs[0].(*ast.TypeAssertExpr)
			if id, ok := a.Lhs[0].(*ast.Ident); ok && id.Name != "_" {
				bound = id.Name
			}
		}
	}
	if ta == nil {
		return
	}
	t := r.name("t")
	if ts.Init != nil {
		r.replace(ts.Switch, ts.Init.Pos(), "{ ")
		r.replace(ts.Init.End(), ts.Assign.Pos(), "; switch ")
	} else {
		r.replace(ts.Switch, ts.Assign.Pos(), "{ switch ")
	}
	r.replace(ts.Assign.Pos(), ta.X.Pos(), t+" := (")
	r.replace(ta.X.End(), ts.Body.Lbrace, "); ")
	r.insert(ts.Body.End(), " }")
	for _, st := range ts.Body.List {
		cc := st.(*ast.CaseClause)
		if cc.List == nil {
			if bound != "" {
				r.insert(cc.Colon+1, fmt.Sprintf(" %s := %s; _ = %s;", bound, t, bound))
			}
			continue
		}
		var conds []string
		for _, e := range cc.List {
			text := r.src[r.offset(e.Pos()):r.offset(e.End())]
			if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
				conds = append(conds, t+" == nil")
				continue
			}
			conds = append(conds, fmt.Sprintf("func() bool { _, ok := %s.(%s); return ok }()", t, text))
		}
		r.replace(cc.List[0].Pos(), cc.Colon, strings.Join(conds, " || "))
		if bound == "" {
			continue
		}
		if len(cc.List) == 1 && len(conds) == 1 && !strings.HasSuffix(conds[0], "== nil") {
			text := r.src[r.offset(cc.List[0].Pos()):r.offset(cc.List[0].End())]
			r.insert(cc.Colon+1, fmt.Sprintf(" %s := %s.(%s); _ = %s;", bound, t, text, bound))
		} else {
			r.insert(cc.Colon+1, fmt.Sprintf(" %s := %s; _ = %s;", bound, t, bound))
		}
	}
}
