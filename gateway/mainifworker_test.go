//go:build unix

package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// forgetfulMain is the main of a program that forgot MainIfWorker: started
// as its own popen worker, it opens a popen gateway.
func forgetfulMain() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sp, _ := ParseSpec("popen")
	g, err := Open(ctx, sp[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "forgetful main:", err)
		os.Exit(1)
	}
	g.Close()
	os.Exit(0)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A program without MainIfWorker fails at once with an error saying what
// to add, instead of recursing until Open times out.
func TestForgottenMainIfWorker(t *testing.T) {
	t.Setenv("GODIST_TEST_FORGET_MAINIFWORKER", "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := OpenWith(ctx, parseOne(t, "popen"), Options{WorkerCommand: []string{exe, "worker"}, Stderr: &stderr})
	if err == nil {
		g.Close()
		t.Fatal("open succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if !strings.Contains(stderr.String(), "call gateway.MainIfWorker() first in main") {
		t.Errorf("worker stderr %q does not say what to add", stderr.String())
	}
	// In the worker process itself, Open fails with ErrNoMainIfWorker.
	t.Setenv(WorkerEnv, "1")
	if _, err := Open(ctx, parseOne(t, "popen")); !errors.Is(err, ErrNoMainIfWorker) {
		t.Errorf("open in a worker: %v", err)
	}
}
