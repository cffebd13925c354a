package run

import (
	"testing"
	"time"
)

// killTimeout follows cmd/go: WaitDelay d/10 at least 5s; the binary is
// signalled a minute (or one WaitDelay, if longer) after its own -timeout.
func TestKillTimeout(t *testing.T) {
	for _, c := range []struct{ d, deadline, wait time.Duration }{
		{0, 0, 5 * time.Second},
		{time.Second, time.Minute + time.Second, 5 * time.Second},
		{10 * time.Minute, 11 * time.Minute, time.Minute},
		{time.Hour, time.Hour + 6*time.Minute, 6 * time.Minute},
	} {
		deadline, wait := killTimeout(c.d)
		if deadline != c.deadline || wait != c.wait {
			t.Errorf("killTimeout(%v) = %v, %v; want %v, %v", c.d, deadline, wait, c.deadline, c.wait)
		}
	}
}
