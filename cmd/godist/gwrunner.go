package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/godist/godist/channel"
	"github.com/godist/godist/gateway"
)

// runnerSource is the worker side of the test runner, remote-exec'd on
// every gateway: the protocol between controller and worker is ours, the
// worker only needs godist.
//
//go:embed remote_runner.go.txt
var runnerSource string

// gatewayRunner runs test processes on one worker gateway, one at a time,
// through one execution of runnerSource.
type gatewayRunner struct {
	gw *gateway.Gateway
	ch *channel.Channel

	// Workers reached over ssh or a socket may not share the controller's
	// filesystem: they get test bundles (bundle.go).
	shipsBundles bool
	platform     string // the worker's GOOS/GOARCH
	bmu          sync.Mutex
	have         map[string]string // bundle hash -> its directory on the worker
}

func newGatewayRunner(ctx context.Context, gw *gateway.Gateway) (*gatewayRunner, error) {
	ch, err := gw.RemoteExec(ctx, runnerSource)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: starting the test runner: %w", gw.ID(), err)
	}
	kind := gw.Spec().Kind
	g := &gatewayRunner{gw: gw, ch: ch, shipsBundles: kind == gateway.KindSSH || kind == gateway.KindSocket}
	if g.shipsBundles {
		info, err := gw.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", gw.ID(), err)
		}
		g.platform = info.GOOS + "/" + info.GOARCH
	}
	return g, nil
}

// killGrace bounds how long a killed test process may take to report back.
const killGrace = 10 * time.Second

func (g *gatewayRunner) runProc(ctx context.Context, req procRequest, out io.Writer) (procResult, error) {
	msg := map[string]any{"argv": req.Argv, "dir": req.Dir, "env": req.Env}
	if err := g.ch.Send(ctx, msg); err != nil {
		return procResult{}, g.lost(err)
	}
	// Once a kill is sent, for a --test-timeout or because ctx ended, the
	// worker must report the process's end within killGrace, or it is
	// taken for lost: a worker that stopped answering must not hang the run.
	recvCtx, stopRecv := context.WithCancelCause(context.Background())
	defer stopRecv(nil)
	var killOnce sync.Once
	var graceTimer *time.Timer // set once, under killOnce, by the kill goroutine
	defer func() {
		if graceTimer != nil {
			graceTimer.Stop()
		}
	}()
	kill := func(sig string) {
		kctx, cancel := context.WithTimeout(context.Background(), killGrace)
		defer cancel()
		g.ch.Send(kctx, map[string]any{"kill": sig})
		killOnce.Do(func() {
			graceTimer = time.AfterFunc(killGrace, func() {
				stopRecv(fmt.Errorf("no answer %v after killing the test process", killGrace))
			})
		})
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case sig := <-req.Kill: // nil: never
				kill(sig)
			case <-ctx.Done():
				kill("KILL")
				return
			case <-done:
				return
			}
		}
	}()
	for {
		v, err := g.ch.Receive(recvCtx)
		if err != nil {
			if cause := context.Cause(recvCtx); cause != nil && recvCtx.Err() != nil {
				err = cause
			}
			return procResult{}, g.lost(err)
		}
		switch v := v.(type) {
		case []byte:
			out.Write(v)
		case map[string]any:
			return resultFromMap(v)
		default:
			return procResult{}, fmt.Errorf("gateway %s: test runner sent %T", g.gw.ID(), v)
		}
	}
}

func resultFromMap(m map[string]any) (procResult, error) {
	var res procResult
	if code, ok := m["exit"].(int64); ok {
		res.ExitCode = int(code)
	}
	res.Signal, _ = m["signal"].(string)
	if msg, _ := m["error"].(string); msg != "" {
		return res, errors.New(msg)
	}
	return res, nil
}

func (g *gatewayRunner) lost(err error) error {
	// The runner's own failure (say, remote code that no longer compiles)
	// says more than "channel closed".
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var remote *channel.RemoteError
	if werr := g.ch.Wait(wctx); errors.As(werr, &remote) {
		err = remote
	} else if gerr := g.gw.Err(); gerr != nil {
		err = gerr
	}
	return fmt.Errorf("gateway %s: %w", g.gw.ID(), err)
}
