//go:build unix

// Package killparent: TestKillParent kills the process that started its
// test binary (a godist worker, or go test) with SIGKILL; the others pass.
package killparent

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestA(t *testing.T) {}

func TestKillParent(t *testing.T) {
	fmt.Println("killing my parent")
	syscall.Kill(os.Getppid(), syscall.SIGKILL)
	time.Sleep(20 * time.Second) // the test binary should die with its parent
	t.Fatal("still running 20s after its parent was killed")
}

func TestC(t *testing.T) {}

func TestD(t *testing.T) {}
