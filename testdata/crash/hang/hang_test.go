// Package hang has a test that never returns, for timeout tests. Set
// GODIST_FIXTURE_HANG=0 to make it return at once.
package hang

import (
	"os"
	"testing"
	"time"
)

func TestQuick(t *testing.T) {}

func TestHang(t *testing.T) {
	if os.Getenv("GODIST_FIXTURE_HANG") == "0" {
		return
	}
	// Sleep rather than select{}: a sleeping goroutine keeps a timer, so the
	// runtime never reports "all goroutines are asleep" when the binary runs
	// without -test.timeout. Only a timeout or a kill ends this test.
	for {
		time.Sleep(time.Hour)
	}
}
