package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/godist/godist/gotool"
)

// hostPlatform is the controller's GOOS/GOARCH.
var hostPlatform = runtime.GOOS + "/" + runtime.GOARCH

// crossBuild builds pkg's test binary for another platform ("linux/386"),
// once per run, for workers of that platform.
func (r *testRun) crossBuild(ctx context.Context, pkg *gotool.Package, platform string) (string, error) {
	r.mu.Lock()
	if r.cross == nil {
		r.cross = map[string]*crossOnce{}
	}
	o := r.cross[pkg.ImportPath+" "+platform]
	if o == nil {
		o = &crossOnce{}
		r.cross[pkg.ImportPath+" "+platform] = o
	}
	r.mu.Unlock()
	o.once.Do(func() {
		goos, goarch, _ := strings.Cut(platform, "/")
		out := filepath.Join(r.workDir, goos+"_"+goarch)
		if o.err = os.MkdirAll(out, 0o755); o.err != nil {
			return
		}
		res := gotool.Build(ctx, gotool.BuildRequest{Pkg: pkg, OutDir: out, BuildFlags: r.buildFlags(),
			Env: append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch)})
		if res.Err != nil {
			o.err = fmt.Errorf("building %s for %s: %v\n%s", pkg.ImportPath, platform, res.Err, res.Output)
			return
		}
		o.path = res.Binary
	})
	return o.path, o.err
}

// crossOnce is one package's binary for one other platform.
type crossOnce struct {
	once sync.Once
	path string
	err  error
}
