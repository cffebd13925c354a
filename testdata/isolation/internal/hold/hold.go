// Package hold says how long a fixture test keeps what it holds (a port,
// an address, a file): $ISOLATION_FIXTURE_HOLD (a time.Duration), 50ms by
// default, so that two processes of a package started together overlap.
package hold

import (
	"os"
	"time"
)

// Duration is how long to hold.
func Duration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("ISOLATION_FIXTURE_HOLD")); err == nil {
		return d
	}
	return 50 * time.Millisecond
}
