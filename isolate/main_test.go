package isolate

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// helperEnv makes the test binary one of the helper processes of
// helper_linux_test.go instead of running tests.
const helperEnv = "ISOLATE_TEST_HELPER"

func TestMain(m *testing.M) {
	MainIfShim() // the test binary is its own shim in the isolated cases
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(helperMain(role))
	}
	// The helpers are this binary: under -race, spare each of them the
	// race runtime's one-second sleep at exit.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
