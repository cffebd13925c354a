package isolate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/godist/godist/internal/tmpdir"
)

// Mode is how a test process is isolated.
type Mode int

const (
	// Auto, in Options, means the mode Probe found. Probe never returns it.
	Auto Mode = iota
	// None: no namespace; the process shares the host's network.
	None
	// NetRoot: a network namespace of its own, which needs CAP_SYS_ADMIN.
	// Wrapped.Start makes it on a thread of the launcher (unshare
	// CLONE_NEWNET, lo up) and forks the test binary from there: no shim,
	// no second exec. The process keeps its user and capabilities.
	NetRoot
	// NetUser: a user namespace that maps only the caller's uid and gid,
	// owning a network namespace (CLONE_NEWUSER|CLONE_NEWNET), for users
	// without CAP_SYS_ADMIN. The process keeps its uid and gid, has no
	// capabilities, and sees files of unmapped users as owned by the
	// overflow user (nobody) and its supplementary groups as nogroup.
	// The test binary is started through the shim (MainIfShim), which
	// brings lo up from inside.
	NetUser
)

func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case None:
		return "none"
	case NetRoot:
		return "net-root"
	case NetUser:
		return "net-user"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Isolated reports whether m gives the process a network namespace.
func (m Mode) Isolated() bool { return m == NetRoot || m == NetUser }

// ProbeResult is what Probe found out.
type ProbeResult struct {
	Mode Mode // None, NetRoot or NetUser
	// Reason says why each better mode was refused ("net-root: not root
	// (no CAP_SYS_ADMIN); net-user: clone: no space left on device (...)");
	// empty when the best mode works.
	Reason string
	Took   time.Duration // the probe's wall time
}

func (r ProbeResult) String() string {
	if r.Reason == "" {
		return r.Mode.String()
	}
	return r.Mode.String() + " (" + r.Reason + ")"
}

var (
	probeOnce   sync.Once
	probeResult ProbeResult
)

// Probe says which isolation works for this process, trying it for real
// once and keeping the answer for the life of the process: as root a
// namespace made on a thread (well under a millisecond), else one shim
// child in a user namespace (a few milliseconds). The program must call
// MainIfShim first thing, as for Wrap; if it does not, the probe's child
// is the program itself with one unknown flag, which is expected to
// refuse it, and the answer is None with a reason naming MainIfShim.
func Probe() ProbeResult {
	probeOnce.Do(func() {
		start := time.Now()
		probeResult = probe()
		probeResult.Took = time.Since(start)
	})
	return probeResult
}

// Options adjust Wrap.
type Options struct {
	// Mode to use; Auto (the zero value) is Probe's. An explicit NetRoot or
	// NetUser is used without probing: when the kernel refuses it, starting
	// the process fails.
	Mode Mode
	// TempRoot is where the private TMPDIR is made; default os.TempDir().
	TempRoot string
	// NoTempDir leaves TMPDIR as it is.
	NoTempDir bool
}

// Env names the variables this package sets in the environment.
const (
	// EnvShim marks a process as the shim (value: the mode). MainIfShim
	// removes it before the test binary starts.
	EnvShim = "GODIST_ISOLATE_SHIM"
	// EnvMode tells the test process how it is isolated (the Mode's
	// String: "net-root", "net-user"; absent when not isolated), so that a
	// test that needs the host's network can skip itself.
	EnvMode = "GODIST_ISOLATION"
)

// ExitShimFailed is the exit status of a shim that could not set the
// namespace up or start the test binary; its reason is on stderr, as
// "godist isolate: ...". Probe having passed, it means something changed.
const ExitShimFailed = 125

// Wrapped is a test process's command rewritten by Wrap.
type Wrapped struct {
	Argv []string // Argv[0] is the program to start
	Env  []string // the whole environment, as exec.Cmd.Env
	// SysProcAttr is a copy of the one given to Wrap; for NetUser with the
	// clone flags, the id maps and an ambient CAP_NET_ADMIN (which the shim
	// drops before the test binary starts) added.
	SysProcAttr *syscall.SysProcAttr
	Mode        Mode        // the mode used: None when not isolated
	TempDir     string      // the private TMPDIR, "" with NoTempDir
	tmp         *tmpdir.Dir // holds TempDir (swept once its process is gone)
}

// Start starts cmd, made from w's Argv, Env and SysProcAttr (and
// whatever else the launcher sets: Dir, Stdout, Cancel, WaitDelay), in
// w's namespaces. Call it in place of cmd.Start: for NetRoot the process
// is forked from a thread in a fresh network namespace, and cmd.Start
// would run it in the host's. After Start, wait for cmd as usual.
func (w *Wrapped) Start(cmd *exec.Cmd) error {
	if cmd.Path == "" && len(cmd.Args) == 0 {
		return fmt.Errorf("isolate: start: empty command")
	}
	return w.start(cmd)
}

// Cleanup removes the private TMPDIR with what the test left in it. Call
// it after the process ended.
func (w *Wrapped) Cleanup() error {
	if w.tmp == nil {
		return nil
	}
	if err := w.tmp.Remove(); err != nil {
		return fmt.Errorf("isolate: cleanup: %w", err)
	}
	return nil
}

// Wrap rewrites a test process's command for isolation: argv as for
// exec.Command (argv[0] a path or a name looked up in PATH), env the whole
// environment (nil: os.Environ()), sys the SysProcAttr the launcher would
// use (Setpgid, Pdeathsig and the rest are kept; nil for none). Make an
// exec.Cmd of the result's Argv, Env and SysProcAttr, in the directory the
// test would have run in, start it with the result's Start, wait for it,
// and call Cleanup.
//
// Env gets the private TMPDIR and, when isolated, EnvMode. Under None and
// NetRoot, Argv is argv and SysProcAttr a copy of sys. Under NetUser, Argv
// starts the program again, as the shim: it must call MainIfShim first.
func Wrap(argv, env []string, sys *syscall.SysProcAttr, opts Options) (*Wrapped, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("isolate: wrap: empty argv")
	}
	if env == nil {
		env = os.Environ()
	}
	env = without(env, EnvShim, EnvMode)
	w := &Wrapped{Argv: argv, Env: env, Mode: opts.Mode, SysProcAttr: &syscall.SysProcAttr{}}
	if sys != nil {
		*w.SysProcAttr = *sys
	}
	if w.Mode == Auto {
		w.Mode = Probe().Mode
	}
	if !opts.NoTempDir {
		root := opts.TempRoot
		if root == "" {
			root = os.TempDir()
		}
		dir, err := tmpdir.Make(root, "godist-isolate-")
		if err == nil {
			// Like /tmp, which it stands in for: tests hand files in it
			// to other users (a server run as nobody, say).
			if err = os.Chmod(dir.Path, 0o1777); err != nil {
				dir.Remove()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("isolate: wrap: %w", err)
		}
		w.tmp, w.TempDir = dir, dir.Path
		w.Env = setTempDir(w.Env, dir.Path)
	}
	if w.Mode.Isolated() {
		w.Env = append(w.Env, EnvMode+"="+w.Mode.String())
		if err := w.shim(); err != nil {
			w.Cleanup()
			return nil, fmt.Errorf("isolate: wrap: %w", err)
		}
	}
	return w, nil
}

// without returns env without the variables named.
func without(env []string, names ...string) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if envNameEqual(name, n) {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// setTempDir points the temporary-directory variables of this system at
// dir, absolute so that a test changing directory keeps it.
func setTempDir(env []string, dir string) []string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	env = without(env, tempDirVars...)
	for _, v := range tempDirVars {
		env = append(env, v+"="+dir)
	}
	return env
}
