// Package hangmid has two hanging tests between quick ones, for
// --test-timeout: the tests after a killed one must still run. Set
// GODIST_FIXTURE_HANG=0 to make them return at once.
package hangmid

import (
	"os"
	"testing"
	"time"
)

func hang(t *testing.T) {
	if os.Getenv("GODIST_FIXTURE_HANG") == "0" {
		return
	}
	for {
		time.Sleep(time.Hour)
	}
}

func TestFirst(t *testing.T)  {}
func TestHangA(t *testing.T)  { hang(t) }
func TestHangB(t *testing.T)  { hang(t) }
func TestLast(t *testing.T)   {}
func TestLaster(t *testing.T) {}
