// Package ignorequit has a test that ignores SIGQUIT while it hangs, so
// neither go test's -timeout dump nor --test-timeout's SIGQUIT end it; only
// a SIGKILL does. Set GODIST_FIXTURE_HANG=0 to make it return at once.
package ignorequit

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

func TestBefore(t *testing.T) {}

func TestIgnoresQuit(t *testing.T) {
	if os.Getenv("GODIST_FIXTURE_HANG") == "0" {
		return
	}
	signal.Ignore(syscall.SIGQUIT)
	fmt.Println("ignoring SIGQUIT")
	for {
		time.Sleep(time.Hour)
	}
}

func TestAfter(t *testing.T) {}
