package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/godist/godist/report"
	"github.com/godist/godist/run"
)

// runTests is `godist [flags] [packages]`: go test, distributed.
func runTests(args []string, stdout, stderr io.Writer) int {
	args, code := changeDir(args, stderr)
	if code >= 0 {
		return code
	}
	o, err := parseArgs(append(goflagsTestFlags(os.Getenv("GOFLAGS")), args...))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return report.ExitUsage
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first SIGINT or SIGTERM stops the run: workers kill their test
	// processes, what finished is reported. The second one ends godist at
	// once (the default action): workers see their controller go and kill
	// what they run; local test processes die with godist (Pdeathsig).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var got os.Signal
	var sigMu sync.Mutex
	stopped := make(chan struct{})
	var sigWG sync.WaitGroup
	sigWG.Add(1)
	go func() {
		defer sigWG.Done()
		select {
		case sig := <-sigs:
			sigMu.Lock()
			got = sig
			sigMu.Unlock()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			fmt.Fprintf(stderr, "godist: %v: stopping (again to quit at once)\n", sig)
			cancel()
		case <-stopped:
		}
	}()
	code = run.Run(ctx, o, stdout, stderr)
	close(stopped)
	sigWG.Wait()
	signal.Stop(sigs)
	sigMu.Lock()
	defer sigMu.Unlock()
	switch got {
	case os.Interrupt:
		return 130 // what a shell expects after Ctrl-C
	case syscall.SIGTERM:
		return 143
	}
	return code
}

// changeDir does what go test does with a first flag -C DIR: godist runs
// in DIR. It returns the arguments after it, and an exit status when
// that failed (-1 otherwise). -C elsewhere is parseArgs's usage error.
func changeDir(args []string, stderr io.Writer) ([]string, int) {
	if len(args) == 0 {
		return args, -1
	}
	name, dir, hasValue := strings.Cut(args[0], "=")
	if name != "-C" && name != "--C" {
		return args, -1
	}
	rest := args[1:]
	if !hasValue {
		if len(rest) == 0 {
			fmt.Fprintln(stderr, usagef("godist: flag needs an argument: -C"))
			return nil, report.ExitUsage
		}
		dir, rest = rest[0], rest[1:]
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintf(stderr, "godist: chdir %s: %v\n", dir, errors.Unwrap(err))
		return nil, 1 // go test's status
	}
	return rest, -1
}
