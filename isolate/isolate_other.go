//go:build !linux

package isolate

import (
	"errors"
	"fmt"
)

func probe() ProbeResult {
	return ProbeResult{Mode: None, Reason: "network namespaces are Linux only"}
}

func (w *Wrapped) shim() error {
	// Only reached with an explicit mode in Options.
	return fmt.Errorf("mode %v: network namespaces are Linux only: %w", w.Mode, errors.ErrUnsupported)
}

// MainIfShim does nothing outside Linux: Wrap never starts a shim there.
func MainIfShim() {}
