//go:build !linux

package isolate

import (
	"errors"
	"fmt"
	"os/exec"
)

func probe() ProbeResult {
	return ProbeResult{Mode: None, Reason: "network namespaces are Linux only"}
}

func (w *Wrapped) shim() error {
	// Only reached with an explicit mode in Options.
	return fmt.Errorf("mode %v: network namespaces are Linux only: %w", w.Mode, errors.ErrUnsupported)
}

func (w *Wrapped) start(cmd *exec.Cmd) error { return cmd.Start() }

// MainIfShim does nothing outside Linux: Wrap never starts a shim there.
func MainIfShim() {}
