package gateway

import (
	"path"
	"reflect"
	"sync"

	"github.com/traefik/yaegi/interp"
)

var provided struct {
	mu   sync.Mutex
	syms interp.Exports
}

// Provide makes compiled code importable by remote code that this process
// serves: after Provide("example.com/m/runner", syms), remote source can
// `import "example.com/m/runner"` and call syms by name (values as yaegi
// expects them: reflect.ValueOf(f) for a func f, reflect.ValueOf((*T)(nil))
// for a type T). It lets a program ship a few lines that call its own
// compiled, tested code instead of interpreting a whole protocol. Call it
// before serving (in an init function, say); executions that start later
// see the package.
func Provide(importPath string, syms map[string]reflect.Value) {
	provided.mu.Lock()
	defer provided.mu.Unlock()
	if provided.syms == nil {
		provided.syms = interp.Exports{}
	}
	// yaegi keys a package by "importpath/name".
	provided.syms[importPath+"/"+path.Base(importPath)] = syms
}

// providedSymbols is what Provide registered so far.
func providedSymbols() interp.Exports {
	provided.mu.Lock()
	defer provided.mu.Unlock()
	out := interp.Exports{}
	for k, v := range provided.syms {
		out[k] = v
	}
	return out
}
