// Package gateway runs Go code in other processes, like Python's execnet:
// a Gateway is one live connection to one worker, made from an xspec
// string (popen, socket=HOST:PORT, exec=COMMAND; ssh= later), over which
// RemoteExec sends Go source that the worker interprets with yaegi, each
// execution talking to the controller through its own channel.Channel.
//
// # Controller side
//
// Open / OpenWith / OpenConn do the handshake (channel.NewSession with
// Initiator true and a hello carrying the godist version and the request
// version, see PROTOCOL.md) and apply the spec's keys. A process gateway
// (popen, exec) starts one goroutine, the reaper, that waits for the
// worker; Exit (polite: a terminate request, then a kill via exec.Cmd.Cancel
// when its context ends) and Close (immediate kill) wait for it, so every
// child is reaped when they return. Group opens many gateways in parallel
// and exits them with one bounded context; MultiChannel is one execution on
// each, with a merged ReceiveQueue fed by channel callbacks.
//
// # Worker side
//
// Serve answers requests on one connection; each accepted channel is
// handled by a goroutine owned by Serve, as is the goroutine that prepares
// the next execution's interpreter (standard library loaded) ahead of
// time. Serve waits for them when the connection ends (bounded by ServeOptions.ShutdownGrace: interpreted code
// cannot be killed). ServeStdio is the `godist worker` (the protocol moves
// to private descriptors, fd 1 and os.Stdout point at stderr); MainIfWorker
// calls it when GODIST_WORKER=1. ServeListener is the `godist
// socketserver`: a goroutine per connection, all stopped and waited for
// when its context ends.
//
// # Remote code
//
// Source is either a list of statements (optionally starting with import
// lines), which becomes the body of main, or a complete package main file.
// Every execution gets a new interpreter with the standard library
// (unrestricted: os/exec works, os.Exit ends the worker), packages sent
// with RemoteImport, and two predeclared things:
//
//   - channel, a *ScriptChannel: Send(v) error, Receive() (any, error),
//     ReceiveTimeout(d) (any, error), Set(name, v) error, Get(name)
//     (any, error), GetTimeout(name, d), Close(), CloseWithError(msg),
//     IsClosed(), Context(), Raw() *channel.Channel.
//   - import "godist": Channel() *ScriptChannel, Go(func()) (a goroutine
//     whose panic fails the execution instead of killing the worker; plain
//     `go` statements that panic kill the worker), Context()
//     context.Context (ends with the connection), Info() Info, ID() string
//     (the gateway id), Version() string, ServeListener(net.Listener)
//     (serve the gateway protocol on a listener in the background until
//     this connection ends), ErrTimeout and ErrClosed (channel's sentinels,
//     for errors.Is), the types RemoteError and RawChannel (=
//     *channel.Channel: channels arriving inside values, or made with
//     channel.Raw().Session().NewChannel()), and Open, ParseSpec, Spec and
//     Gateway to open nested gateways (remote code must Exit them).
//
// The execution's channel closes when main and all godist.Go goroutines
// returned: cleanly, or with a *channel.RemoteError when the code failed
// to compile or panicked. Where is "remote.go:LINE:COL" in the source as
// sent (columns on line 1 of a statement list are shifted by the wrapper);
// for a panic yaegi only tells the interpreted function that was running,
// so Where is that function's position and name ("remote.go:4:6 in
// main.main") and Stack lists the unwound interpreted frames. Values sent from remote code should be
// primitives, maps and slices: interpreted struct types reach the host as
// odd reflect types. yaegi limits: no range over int or func (reported as a
// compile error), no min/max builtins.
package gateway
