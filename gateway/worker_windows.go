package gateway

import (
	"errors"
	"os"
)

// takeStdio: Windows workers keep the protocol on the process's own
// stdin and stdout (the caller points os.Stdout at stderr).
func takeStdio() (in, out *os.File, err error) { return os.Stdin, os.Stdout, nil }

// renice: a spec's nice key needs a Unix worker.
func renice(int) error { return errors.New("nice is not supported on windows") }
