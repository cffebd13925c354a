package gateway

// # What remote code can and cannot do
//
// Remote code is interpreted by yaegi (v0.16.1), which implements Go
// ≈1.21 and has bugs that give wrong answers without an error. godist
// rewrites the source before interpreting it (rewrite.go) so that the
// constructs below run as Go 1.22+ runs them, and refuses with a compile
// error naming the line ("remote.go:LINE:COL: ...") those it cannot run
// correctly. Each row is checked by TestRemoteCodeSemantics over every
// transport.
//
//	construct                               godist
//	closures made in a loop (go, godist.Go,  run right: every func literal not called on the
//	  time.AfterFunc, SetCallback, funcs in    spot is made in a frame of its own (yaegi 1594,
//	  maps/struct fields, conversions)         1713); `go func(){...}()` too
//	Go 1.22 per-iteration loop variables     run right: 3-clause loops (post statement and
//	                                           continue included) and range loops whose
//	                                           variables can escape get per-iteration copies
//	range over an int                        run right when its type is known from the
//	                                           language or the remote file (`range 10`,
//	                                           `range len(s)`, `range n`); of a type from an
//	                                           import: refused, naming the suspect range
//	range over a func (iterators)            refused ("range over a function")
//	min, max                                 run right for types known as above (NaN aside),
//	                                           else "undefined: min" at the line
//	clear                                    run right (maps and slices)
//	type switch with a case of a type        run right (rewritten to type assertions; yaegi
//	  declared in the remote code              silently matches no such case)
//	errors.As with a target type declared     refused: yaegi panics or never matches; use a
//	  in the remote code                       type assertion, or errors.Is with a sentinel
//	errors.As with standard types, errors.Is  run right
//	generic functions and types of the       mostly run (Sum[T Number], Stack[T]); yaegi
//	  remote code                              refuses some inference at compile time
//	generic functions of slices and maps     refused by yaegi: "undefined selector:
//	  (slices.Sort, maps.Keys, ...)            slices.Sort" at the line; sort.Slice and loops
//	                                           do the same work
//	a panic in a plain go statement          kills the worker (godist exec reports the exit
//	                                           status): use godist.Go
//	a panic in a channel callback or a        closes only that channel, with a RemoteError
//	  time.AfterFunc func
//	runtime.Goexit in main                   closes the channel with a RemoteError
//
// The rewrite keeps every line where it was; columns on a rewritten line
// are mapped back for errors.
