package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"

	"github.com/godist/godist/bundle"
	"github.com/godist/godist/channel"
	"github.com/godist/godist/gateway"
	"github.com/godist/godist/internal/proc"
)

// ImportPath is how remote code imports this package on a worker.
const ImportPath = "github.com/godist/godist/workers"

// Any program that links this package serves it to remote code: godist's
// workers are godist binaries.
func init() {
	gateway.Provide(ImportPath, map[string]reflect.Value{
		"Serve": reflect.ValueOf(Serve),
	})
}

// serveSource is what a Remote ships: the worker runs compiled Serve.
const serveSource = `package main

import (
	"godist"
	"github.com/godist/godist/workers"
)

func main() {
	if err := workers.Serve(godist.Context(), godist.Channel().Raw()); err != nil {
		panic(err)
	}
}
`

// Serve is the worker half of the protocol (see the package doc): it runs
// the controller's requests on ch, one process at a time, with Local, until
// the controller closes ch (nil) or ctx ends. Bundles go to
// bundle.DefaultStore.
func Serve(ctx context.Context, ch *channel.Channel) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &server{ch: ch, ctx: ctx, reqs: make(chan wireRequest), kills: make(chan proc.Sig, 8), store: bundle.DefaultStore()}
	done := make(chan error, 1)
	go func() { done <- s.read(cancel) }()
	err := s.loop()
	cancel()
	rerr := <-done
	if err == nil && rerr != nil && !errors.Is(rerr, io.EOF) && ctx.Err() == nil {
		err = rerr
	}
	return err
}

type server struct {
	ch    *channel.Channel
	ctx   context.Context
	reqs  chan wireRequest // requests for the loop
	kills chan proc.Sig    // kill messages, for the running process
	store bundle.Store
}

// read is the channel's only reader: kill messages act at once, the rest
// go to the loop; the channel ending (the controller gone) cancels the
// context, which kills a running process.
func (s *server) read(cancel context.CancelFunc) error {
	defer close(s.reqs)
	defer cancel()
	for {
		var r wireRequest
		if err := s.ch.ReceiveInto(s.ctx, &r); err != nil {
			return err
		}
		if r.Op == opKill {
			select {
			case s.kills <- proc.ParseSig(r.Sig):
			default: // a burst of kills: the first ones do it
			}
			continue
		}
		select {
		case s.reqs <- r:
		case <-s.ctx.Done():
			return nil
		}
	}
}

func (s *server) loop() error {
	for r := range s.reqs {
		var err error
		switch r.Op {
		case opRun:
			err = s.run(r)
		case opBundle:
			err = s.receiveBundle(r.Hash)
		default:
			err = s.send(wireEvent{End: true, Exit: -1, Err: fmt.Sprintf("workers: unknown request %q", r.Op)})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *server) send(e wireEvent) error { return s.ch.Send(s.ctx, e) }

// run runs one process; kills left over from the previous one are dropped.
func (s *server) run(r wireRequest) error {
	for len(s.kills) > 0 {
		<-s.kills
	}
	req := Request{Argv: r.Argv, Dir: r.Dir, Env: r.Env, Deadline: r.Deadline, WaitDelay: r.WaitDelay, QuitGrace: r.QuitGrace, Isolate: r.Isolate, Guard: r.Guard, Kill: s.kills}
	out := &chunkWriter{s: s}
	res, err := Local{}.Run(s.ctx, req, out)
	if out.err != nil {
		return out.err // the channel is gone
	}
	e := wireEvent{End: true, Exit: res.ExitCode, Signal: res.Signal, IOIncomplete: res.IOIncomplete, TimedOut: res.TimedOut, Isolation: res.Isolation, ParentKilled: res.ParentKilled}
	if err != nil {
		e.Err = err.Error()
	}
	return s.send(e)
}

// chunkWriter sends process output as it comes; after a failed send it
// keeps accepting (and dropping) output, so the process is not stopped
// by a write error before the context kills it.
type chunkWriter struct {
	s   *server
	err error
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	if w.err == nil {
		w.err = w.s.send(wireEvent{Out: p})
	}
	return len(p), nil
}

// receiveBundle answers a bundle request (see the package doc).
func (s *server) receiveBundle(hash string) error {
	if s.store.Have(hash) {
		return s.send(wireEvent{Have: true, Dir: s.store.Dir(hash)})
	}
	rcv, rerr := s.store.Receive(hash)
	if err := s.send(wireEvent{Have: false, Dir: s.store.Dir(hash)}); err != nil {
		if rcv != nil {
			rcv.Abort()
		}
		return err
	}
	for r := range s.reqs {
		switch {
		case r.Op == opDone:
			if rerr != nil {
				if rcv != nil {
					rcv.Abort()
				}
				return s.send(wireEvent{Err: rerr.Error()})
			}
			dir, err := rcv.Commit()
			if err != nil {
				return s.send(wireEvent{Err: err.Error()})
			}
			return s.send(wireEvent{Dir: dir})
		case r.Op == opAbort:
			if rcv != nil {
				rcv.Abort()
			}
			return s.send(wireEvent{Err: "bundle aborted by the controller"})
		case r.Op == opFile && rerr == nil:
			rerr = rcv.Add(r.File, r.Data, fs.FileMode(r.Mode))
		}
	}
	if rcv != nil {
		rcv.Abort()
	}
	return nil // the channel ended mid-bundle
}
