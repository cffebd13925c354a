package crash

import (
	"os"
	"testing"
)

func TestOK1(t *testing.T) {}

// TestCrash ends the process: the tests after it never start in this
// process and must be requeued.
func TestCrash(t *testing.T) { os.Exit(3) }

func TestOK2(t *testing.T) {}

func TestOK3(t *testing.T) {}
