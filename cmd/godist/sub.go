package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/godist/godist/channel"
	"github.com/godist/godist/gateway"
	"github.com/godist/godist/run"
)

// runWorker is `godist worker`: serve remote executions on stdin/stdout.
func runWorker(args []string, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "godist worker: unexpected arguments %q\n", args)
		return 2
	}
	if err := gateway.ServeStdio(); err != nil {
		fmt.Fprintf(stderr, "godist worker: %v\n", err)
		return 1
	}
	return 0
}

// runSocketServer is `godist socketserver`: execnet's socket server. It
// prints the address it listens on and serves each connection as a worker
// until SIGINT or SIGTERM. Whoever connects runs any code as this user, so
// every client must prove it holds the shared token (gateway/auth.go): the
// one of --token-file, $GODIST_TOKEN_FILE or $GODIST_TOKEN, else the
// user's gateway.DefaultTokenFile, made (0600) if missing, whose path it
// prints; clients of the same user find it there. Only
// --insecure-no-auth serves without a token, and only on an address that
// is loopback once bound. --tls-cert/--tls-key add TLS.
func runSocketServer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("godist socketserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	tokenFile := fs.String("token-file", "", "file holding the shared token clients must prove they know (default $"+gateway.TokenFileEnv+", $"+gateway.TokenEnv+", else a token made in the user's config directory)")
	insecure := fs.Bool("insecure-no-auth", false, "serve without a token: every local user can then run code as this user (loopback addresses only)")
	maxUnauth := fs.Int("max-unauthenticated", 64, "connections allowed in the handshake at once; one more drops the oldest")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM); with --tls-key")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM); with --tls-cert")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "godist socketserver: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *insecure && *tokenFile != "" {
		fmt.Fprintln(stderr, "godist socketserver: --insecure-no-auth and --token-file exclude each other")
		return 2
	}
	var token []byte
	if !*insecure {
		var from string
		var err error
		token, from, err = gateway.LoadToken(*tokenFile)
		if err == nil && token == nil {
			from, err = gateway.DefaultTokenFile()
			if err == nil {
				var created bool
				token, created, err = gateway.EnsureTokenFile(from)
				if created {
					from += " (made now)"
				}
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "godist socketserver: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "godist socketserver: clients must prove they hold the token of %s (clients: //token-file=FILE or $%s)\n", from, gateway.TokenFileEnv)
	}
	// Remote code and the processes it starts do not inherit the token.
	os.Unsetenv(gateway.TokenEnv)
	os.Unsetenv(gateway.TokenFileEnv)
	opts := gateway.ServeOptions{Stderr: stderr, Token: token, MaxUnauthenticated: *maxUnauth}
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(stderr, "godist socketserver: --tls-cert and --tls-key go together")
		return 2
	}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			fmt.Fprintf(stderr, "godist socketserver: tls: %v\n", err)
			return 2
		}
		opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "godist socketserver: %v\n", err)
		return 1
	}
	if *insecure {
		// The address bound, not the name asked for: "localhost" may
		// resolve to anything.
		if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			ln.Close()
			fmt.Fprintf(stderr, "godist socketserver: --insecure-no-auth: %s is bound to %s, not a loopback address: refusing to serve without a token\n", *listen, ln.Addr())
			return 2
		}
		fmt.Fprintf(stderr, "godist socketserver: WARNING: --insecure-no-auth: no token and no integrity protection; every user of this machine can run code as this user through %s\n", ln.Addr())
	}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New(stderr, "godist socketserver: ", log.LstdFlags)
	opts.Logf = logger.Printf
	err = gateway.ServeListener(ctx, ln, opts)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(stderr, "godist socketserver: %v\n", err)
		return 1
	}
	return 0
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runExec is `godist exec [--tx SPEC]... FILE.go|-`: remote-exec a file on
// one or more gateways, send each stdin line (JSON) to every execution and
// print every value received as one JSON line.
func runExec(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("godist exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var txs stringList
	fs.Var(&txs, "tx", "gateway spec, repeatable (default: popen)")
	timeout := fs.Duration("start-timeout", 0, "time allowed to open the gateways (default 60s, 10m with an ssh gateway)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: godist exec [--tx SPEC]... FILE.go|-")
		return 2
	}
	var src []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		src, err = io.ReadAll(stdin)
		stdin = eofReader{}
	} else {
		src, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "godist exec: %v\n", err)
		return 2
	}
	if len(txs) == 0 {
		txs = stringList{"popen"}
	}
	specs, err := gateway.ParseSpecs(txs)
	if err != nil {
		fmt.Fprintf(stderr, "godist exec: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *timeout <= 0 {
		*timeout = run.StartTimeout(specs)
	}
	sctx, cancel := context.WithTimeout(ctx, *timeout)
	group, err := gateway.NewGroup(sctx, specs)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "godist exec: %v\n", err)
		return 1
	}
	defer func() {
		ectx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		group.Exit(ectx)
	}()
	mc, err := group.RemoteExec(ctx, string(src))
	if err != nil {
		fmt.Fprintf(stderr, "godist exec: %v\n", err)
		return 1
	}
	queue, err := mc.Merge()
	if err != nil {
		fmt.Fprintf(stderr, "godist exec: %v\n", err)
		return 1
	}
	var inputMu sync.Mutex
	var inputErr error
	go func() {
		// Not waited for: stdin may stay open after the executions end.
		if err := sendLines(ctx, stdin, mc); err != nil {
			inputMu.Lock()
			inputErr = err
			inputMu.Unlock()
			mc.Close() // bad input ends the executions: they would wait for more
		}
	}()

	prefix := len(mc.IDs()) > 1
	enc := json.NewEncoder(stdout)
	code := 0
	for {
		item, err := queue.Receive(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(stderr, "godist exec: %v\n", err)
			return 1
		}
		if item.End {
			if err := endError(group.Gateway(item.GatewayID), item.Err); err != nil {
				fmt.Fprintf(stderr, "godist exec: %s: %v\n", item.GatewayID, err)
				code = 1
			}
			continue
		}
		v := jsonable(item.Value)
		if prefix {
			fmt.Fprintf(stdout, "%s ", item.GatewayID)
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "godist exec: %s: %v\n", item.GatewayID, err)
			code = 1
		}
	}
	mc.Close()
	inputMu.Lock()
	defer inputMu.Unlock()
	if inputErr != nil {
		fmt.Fprintf(stderr, "godist exec: stdin: %v\n", inputErr)
		code = 1
	}
	return code
}

// endError is what to report for the end of an execution's channel: the
// remote error, or the worker's death (its exit status: os.Exit in remote
// code, a panicking goroutine); nil for a clean end or our own close.
func endError(g *gateway.Gateway, err error) error {
	if err == nil {
		return nil
	}
	if !errors.Is(err, channel.ErrClosed) {
		return err
	}
	// Closed by us (bad input), or the session ended under the channel:
	// then the worker is gone, or about to be reaped.
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-g.Done():
	case <-t.C:
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("connection to the worker lost: %w", err)
		}
		return nil
	}
	if gerr := g.Err(); gerr != nil {
		return fmt.Errorf("worker died before the execution ended: %w", gerr)
	}
	return fmt.Errorf("worker ended before the execution did")
}

// sendLines sends every JSON line of r to all channels, then half-closes them.
func sendLines(ctx context.Context, r io.Reader, mc *gateway.MultiChannel) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return fmt.Errorf("line %d is not JSON: %v", line, err)
		}
		if err := mc.Send(ctx, v); err != nil {
			return nil // the executions ended; their end is reported
		}
	}
	for _, ch := range mc.Channels() {
		ch.CloseWrite()
	}
	return sc.Err()
}

// jsonable turns received values into values encoding/json can print.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = jsonable(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	case []byte:
		return string(v)
	case *channel.Channel:
		return fmt.Sprintf("<channel %d>", v.ID())
	}
	return v
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
