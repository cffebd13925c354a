package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/godist/godist/bundle"
	"github.com/godist/godist/channel"
	"github.com/godist/godist/gateway"
	"github.com/godist/godist/internal/proc"
)

// Remote runs test processes on one worker gateway, one at a time, through
// one execution of Serve there.
type Remote struct {
	gw *gateway.Gateway
	ch *channel.Channel

	// ShipsBundles: the worker may not share the controller's filesystem
	// (ssh, socket gateways), so tests run from bundles (Ensure).
	ShipsBundles bool
	// Platform is the worker's GOOS/GOARCH (known when ShipsBundles).
	Platform string

	bmu  sync.Mutex
	have map[string]string // bundle hash -> its directory on the worker
}

// StartRemote starts Serve on gw.
func StartRemote(ctx context.Context, gw *gateway.Gateway) (*Remote, error) {
	ch, err := gw.RemoteExec(ctx, serveSource)
	if err != nil {
		if strings.Contains(err.Error(), ImportPath) {
			err = fmt.Errorf("the worker's godist has no compiled test runner (controller %s): run the same godist version there: %w", gateway.Version, err)
		}
		return nil, fmt.Errorf("gateway %s: starting the test runner: %w", gw.ID(), err)
	}
	kind := gw.Spec().Kind
	r := &Remote{gw: gw, ch: ch, ShipsBundles: kind == gateway.KindSSH || kind == gateway.KindSocket}
	if r.ShipsBundles {
		info, err := gw.Info(ctx)
		if err != nil {
			ch.Close()
			return nil, fmt.Errorf("gateway %s: %w", gw.ID(), err)
		}
		r.Platform = info.GOOS + "/" + info.GOARCH
	}
	return r, nil
}

// Gateway is the worker gateway r runs on.
func (r *Remote) Gateway() *gateway.Gateway { return r.gw }

// killGrace bounds how long the worker may take to report a process's end
// after a kill, beyond the request's WaitDelay (the worker escalates a
// Quit to a Kill after one WaitDelay, then waits one more for the output).
const killGrace = 10 * time.Second

// Run runs req on the worker. ctx ending kills the process there. A
// worker that does not report the end of a killed process in time, or
// whose channel breaks, is lost: the error says so.
func (r *Remote) Run(ctx context.Context, req Request, out io.Writer) (Result, error) {
	msg := wireRequest{Op: opRun, Argv: req.Argv, Dir: req.Dir, Env: req.Env, Deadline: req.Deadline, WaitDelay: req.WaitDelay, QuitGrace: req.QuitGrace, Isolate: req.Isolate, Guard: req.Guard}
	if err := r.ch.Send(ctx, msg); err != nil {
		return Result{}, r.lost(err)
	}
	grace := req.quitGrace() + req.waitDelay() + killGrace
	recvCtx, stopRecv := context.WithCancelCause(context.Background())
	defer stopRecv(nil)
	var graceTimer *time.Timer
	var once sync.Once
	armGrace := func() {
		once.Do(func() {
			graceTimer = time.AfterFunc(grace, func() {
				stopRecv(fmt.Errorf("no answer %v after killing the test process", grace))
			})
		})
	}
	kill := func(sig proc.Sig) {
		kctx, cancel := context.WithTimeout(context.Background(), killGrace)
		defer cancel()
		r.ch.Send(kctx, wireRequest{Op: opKill, Sig: string(sig)})
		armGrace()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var deadline <-chan time.Time
		if req.Deadline > 0 {
			// The worker enforces the deadline; we give it the grace after.
			t := time.NewTimer(req.Deadline)
			defer t.Stop()
			deadline = t.C
		}
		for {
			select {
			case sig := <-req.Kill: // nil: never
				kill(sig)
			case <-deadline:
				armGrace()
				deadline = nil
			case <-ctx.Done():
				kill(proc.Kill)
				return
			case <-done:
				return
			}
		}
	})
	defer func() {
		close(done)
		wg.Wait()
		once.Do(func() {}) // no timer after this point
		if graceTimer != nil {
			graceTimer.Stop()
		}
	}()
	for {
		var e wireEvent
		if err := r.ch.ReceiveInto(recvCtx, &e); err != nil {
			if cause := context.Cause(recvCtx); cause != nil && recvCtx.Err() != nil {
				err = cause
			}
			return Result{}, r.lost(err)
		}
		if !e.End {
			out.Write(e.Out)
			continue
		}
		res := Result{Outcome: proc.Outcome{ExitCode: e.Exit, Signal: e.Signal, IOIncomplete: e.IOIncomplete}, TimedOut: e.TimedOut, Isolation: e.Isolation, ParentKilled: e.ParentKilled}
		if e.Err != "" {
			return res, errors.New(e.Err)
		}
		return res, nil
	}
}

// Ensure makes sure the worker has bundle b and returns the bundle's
// directory there and the bytes it took to ship it (0 when the worker's
// machine had it).
func (r *Remote) Ensure(ctx context.Context, b *bundle.Bundle) (string, int64, error) {
	r.bmu.Lock()
	defer r.bmu.Unlock()
	if dir, ok := r.have[b.Hash]; ok {
		return dir, 0, nil
	}
	if err := r.ch.Send(ctx, wireRequest{Op: opBundle, Hash: b.Hash}); err != nil {
		return "", 0, r.lost(err)
	}
	reply, err := r.reply(ctx)
	if err != nil {
		return "", 0, err
	}
	dir := reply.Dir
	var shipped int64
	if !reply.Have {
		for _, f := range b.Files {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				// The controller's problem: the worker drops what it has.
				if serr := r.ch.Send(ctx, wireRequest{Op: opAbort}); serr != nil {
					return "", shipped, r.lost(serr)
				}
				r.reply(ctx)
				return "", shipped, err
			}
			if err := r.ch.Send(ctx, wireRequest{Op: opFile, File: f.Rel, Data: data, Mode: uint32(f.Mode.Perm())}); err != nil {
				return "", shipped, r.lost(err)
			}
			shipped += int64(len(data))
		}
		if err := r.ch.Send(ctx, wireRequest{Op: opDone}); err != nil {
			return "", shipped, r.lost(err)
		}
		stored, err := r.reply(ctx)
		if err != nil {
			return "", shipped, err
		}
		dir = stored.Dir
	}
	if r.have == nil {
		r.have = map[string]string{}
	}
	r.have[b.Hash] = dir
	return dir, shipped, nil
}

// reply receives the worker's answer to a bundle request.
func (r *Remote) reply(ctx context.Context) (wireEvent, error) {
	var e wireEvent
	if err := r.ch.ReceiveInto(ctx, &e); err != nil {
		return e, r.lost(err)
	}
	if e.Err != "" {
		return e, fmt.Errorf("gateway %s: storing a test bundle: %s", r.gw.ID(), e.Err)
	}
	return e, nil
}

// Close ends Serve on the worker (a running process is killed there).
func (r *Remote) Close() error { return r.ch.Close() }

func (r *Remote) lost(err error) error {
	// The runner's own failure says more than "channel closed".
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var remote *channel.RemoteError
	if werr := r.ch.Wait(wctx); errors.As(werr, &remote) {
		err = remote
	} else if gerr := r.gw.Err(); gerr != nil {
		err = gerr
	}
	return fmt.Errorf("gateway %s: %w", r.gw.ID(), err)
}
