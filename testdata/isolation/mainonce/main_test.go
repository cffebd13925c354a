// Package mainonce's TestMain counts its runs: it appends a line to the
// file named by $ISOLATION_FIXTURE_MAIN_LOG (when set), once per process,
// and costs a little (an expensive set-up, in small).
package mainonce

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if name := os.Getenv("ISOLATION_FIXTURE_MAIN_LOG"); name != "" {
		f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintf(f, "TestMain pid %d\n", os.Getpid())
		f.Close()
	}
	time.Sleep(20 * time.Millisecond)
	os.Exit(m.Run())
}

func TestOne(t *testing.T) {}
func TestTwo(t *testing.T) {}
