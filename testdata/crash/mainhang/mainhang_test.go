// Package mainhang's TestMain hangs before m.Run: only the -timeout
// deadline the go command keeps ends it. Set GODIST_FIXTURE_HANG=0 to let
// it run.
package mainhang

import (
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("GODIST_FIXTURE_HANG") != "0" {
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(m.Run())
}

func TestNeverReached(t *testing.T) {}
