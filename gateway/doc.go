// Package gateway runs Go code in other processes, like Python's execnet:
// a Gateway is one live connection to one worker, made from an xspec
// string (popen, socket=HOST:PORT, exec=COMMAND, ssh=[USER@]HOST[:PORT]), over which
// RemoteExec sends Go source that the worker interprets with yaegi, each
// execution talking to the controller through its own channel.Channel.
//
// # Controller side
//
// Open / OpenWith / OpenConn do the handshake (channel.NewSession with
// Initiator true and a hello carrying the godist version and the request
// version, see PROTOCOL.md) and apply the spec's keys. A process gateway
// (popen, exec, ssh) starts one goroutine, the reaper, that waits for the
// worker; Exit (polite: a terminate request, then a kill via exec.Cmd.Cancel
// when its context ends) and Close (immediate kill) wait for it, so every
// child is reaped when they return. Group opens many gateways in parallel
// and exits them with one bounded context; MultiChannel is one execution on
// each, with a merged ReceiveQueue fed by channel callbacks.
//
// # Liveness
//
// Sessions keep alive (channel.Keepalive): the controller pings a quiet
// worker (Options.Keepalive, DefaultKeepalive: every 5 s, lost after 15 s
// of silence), the worker a quiet controller (ServeOptions.Keepalive,
// DefaultWorkerKeepalive: lost after 60 s). A frozen worker (SIGSTOP) or a
// dropped link, which end no stream, so end the gateway: Err and every
// blocked operation give a *channel.KeepaliveError, and a process
// gateway's worker is killed and reaped (one more goroutine per process
// gateway, watching the session; Exit and Close wait for it). A worker
// whose controller went silent ends the connection: a stdio worker exits,
// a socket server logs it and drops only that connection.
//
// # ssh gateways
//
// ssh=[USER@]HOST[:PORT] runs the system ssh client (`ssh -T -o
// BatchMode=yes -o ConnectTimeout=N -o ServerAliveInterval=15 [-F
// ssh_config] [-p PORT] [-l USER] -- HOST CMD`), so the user's keys,
// agent, known_hosts and ssh_config (ProxyJump, aliases) apply;
// //ssh_config=PATH is passed as -F. Nothing is prompted for: a host not in
// known_hosts or a key that needs a passphrase fails. ssh's stdio is the
// byte stream, as for exec=.
//
// The remote needs only sh and the usual tools (uname, head, wc, mkdir,
// mv; sha256sum, shasum, sha256 or openssl to verify): CMD is a one-line sh
// script that looks for the worker binary in
// ${XDG_CACHE_HOME:-$HOME/.cache}/godist/bin/godist-<sha256>, and if it is
// missing asks for it; the controller then copies the binary
// (Options.WorkerCommand[0], else the running executable) over the same
// connection, the script verifies size and hash, installs it atomically
// and runs `env GODIST_GATEWAY_WORKER=1 BINARY worker`. A remote of another
// GOOS/GOARCH (the script compares `uname -s`/`uname -m` with the
// platform the binary is for) gets the binary Options.WorkerFor returns
// for its platform instead, on a second ssh connection; without WorkerFor,
// when it fails, or for a uname godist cannot map, Open fails with an
// *SSHError wrapping ErrPlatform that names the host, its uname and the
// local platform. Which binary a host needs is remembered for the life of
// the process. The copy is shared by every gateway to that account, and kept
// between runs (remove old godist-* files by hand); Gateway.BytesShipped
// tells what one Open copied. Gateways to the same host opened together
// wait for the first one's bootstrap, so the binary travels once; at most
// 8 of them log in at a time (sshd's default MaxStartups drops
// unauthenticated connections beyond 10).
//
// Open fails with an *SSHError naming the host, with ssh's own stderr
// (connection refused, permission denied, host key verification failed,
// sh not found), never hangs past Open's context. Once the worker is up,
// ssh's stderr goes to Options.Stderr. Exit ends the remote worker and
// then ssh; Close kills ssh, and the remote worker exits when sshd closes
// its stdin (about a second or two later, sshd's doing).
//
// # Worker side
//
// Serve answers requests on one connection; each accepted channel is
// handled by a goroutine owned by Serve, as is the goroutine that prepares
// the next execution's interpreter (standard library loaded) ahead of
// time. Serve waits for them when the connection ends (bounded by ServeOptions.ShutdownGrace: interpreted code
// cannot be killed). ServeStdio is the `godist worker` (the protocol moves
// to private descriptors, fd 1 and os.Stdout point at stderr); MainIfWorker
// calls it when GODIST_GATEWAY_WORKER=1. ServeListener is the `godist
// socketserver`: a goroutine per connection, which first authenticates it
// (see below), all stopped and waited for when its context ends.
//
// # Trust model and socket authentication
//
// RemoteExec runs arbitrary code with the worker's rights (os/exec,
// files, network): whoever can talk to a worker owns the account it runs
// as. popen, exec and ssh workers are reached through pipes the controller
// made (ssh authenticates with the user's keys), so only socket= gateways
// need more. ServeListener admits a connection only after a challenge–
// response on a shared token (ServeOptions.Token), before the channel
// handshake, so no request is even read from a client that has not proved
// it holds the token: the server sends a 32-byte random nonce, the client
// answers HMAC-SHA256(token, nonce‖client-nonce) with its own nonce, and
// the server proves itself with HMAC-SHA256(token, client-nonce‖nonce).
// The token never crosses the wire, a recorded exchange cannot be
// replayed, and a client does not talk to a server lacking the token.
// Refusals are logged ("refused connection from ADDR: authentication
// failed: wrong token") and Open fails with an error wrapping ErrAuth
// ("gateway gw0: socket HOST:PORT: authentication failed: wrong token").
// Each step is bounded by ServeOptions.HandshakeTimeout on the server and
// by Open's context (at most 10s) on the client, and lines are at most 256
// bytes. A server and a client must agree: both with a token or both
// without; a mismatch is a clear error on both sides.
//
// The token authenticates the connection but does not encrypt it: on an
// untrusted network add TLS (ServeOptions.TLS; `godist socketserver
// --tls-cert FILE --tls-key FILE`; clients //tls to verify against the
// system roots or //tls-ca=FILE for a private CA), which also stops a
// man in the middle from taking over an authenticated connection. The
// token comes from --token-file / //token-file=PATH or $GODIST_TOKEN (never
// a command-line value: argv is visible to every user of the machine), at
// least 16 bytes, e.g. `(umask 077; head -c 32 /dev/urandom | base64 >
// token)`; like ssh with a private key, ReadTokenFile refuses a file that
// group or others may access (ErrTokenFileMode: "chmod 600 FILE"). `godist
// socketserver` refuses to listen off loopback without a token; on loopback
// a token is optional (any local user can then connect: use a token on
// shared machines). Anyone with the token owns the account: keep it like an
// ssh private key, and run the server as a dedicated user.
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
