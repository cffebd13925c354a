package isolate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// selfExe starts the running program again. In the child, before its
// execve, /proc/self is still the launcher's image, so this names the
// launcher's executable even if the file was replaced or its directory
// is not searchable by the child's user (the magic link skips the path).
const selfExe = "/proc/self/exe"

// probeFlag is the probe child's only argument: a program that does not
// call MainIfShim is expected to refuse it as an unknown flag.
const probeFlag = "-godist-isolate-probe"

const probePrefix = "probe:"

// probeTimeout bounds one probe child, which normally takes milliseconds.
const probeTimeout = 10 * time.Second

func probe() ProbeResult {
	var reasons []string
	if hasCap(unix.CAP_SYS_ADMIN) {
		err := tryNetRoot()
		if err == nil {
			return ProbeResult{Mode: NetRoot}
		}
		reasons = append(reasons, "net-root: "+err.Error())
	} else {
		reasons = append(reasons, "net-root: no CAP_SYS_ADMIN (not root)")
	}
	if err := try(NetUser); err != nil {
		reasons = append(reasons, "net-user: "+err.Error())
	} else {
		return ProbeResult{Mode: NetUser, Reason: strings.Join(reasons, "; ")}
	}
	return ProbeResult{Mode: None, Reason: strings.Join(reasons, "; ")}
}

// tryNetRoot does in a thread of this process what Start does for a
// NetRoot process, and checks that 127.0.0.7 is bindable there.
func tryNetRoot() error {
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	return inFreshNetns(func() error {
		ns, err := os.Readlink("/proc/thread-self/ns/net")
		if err != nil {
			return err
		}
		if ns == own {
			return fmt.Errorf("still in our network namespace %s", own)
		}
		if err := bindable([4]byte{127, 0, 0, 7}); err != nil {
			return fmt.Errorf("bind 127.0.0.7: %w", err)
		}
		return nil
	})
}

// inFreshNetns runs f on a thread of its own in a new network namespace
// with lo up; a process f starts is born there (a child inherits the
// namespaces of the thread that forks it). The thread goes back to our
// namespace afterwards, or ends, never serving other goroutines from the
// new one; and the Go runtime starts no threads from a locked one (it
// asks its template thread), so none inherits the namespace either.
func inFreshNetns(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("unshare: %w", startHint(NetRoot, err))
			return
		}
		err = loUp()
		if err != nil {
			err = fmt.Errorf("bring lo up: %w", err)
		} else {
			err = f()
		}
		if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
			// Left locked, the thread ends with this goroutine.
			done <- errors.Join(err, fmt.Errorf("back to our network namespace: %w", serr))
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}

// start starts cmd in w's namespaces.
func (w *Wrapped) start(cmd *exec.Cmd) error {
	if w.Mode != NetRoot {
		return cmd.Start()
	}
	return inFreshNetns(cmd.Start)
}

// try starts one probe child in mode (NetUser) and checks its answer: lo up,
// 127.0.0.7 bindable, and a network namespace other than ours.
func try(mode Mode) error {
	sys := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	applyMode(sys, mode)
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, selfExe, probeFlag)
	cmd.Env = append(without(os.Environ(), EnvShim, EnvMode), EnvShim+"="+probePrefix+mode.String())
	cmd.SysProcAttr = sys
	return runProbe(ctx, cmd, mode)
}

// runProbe runs a probe child and reads its answer.
func runProbe(ctx context.Context, cmd *exec.Cmd, mode Mode) error {
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr) && exitErr.ExitCode() == ExitShimFailed:
		return errors.New(strings.TrimSpace(firstLine(stderr.String())))
	case errors.As(err, &exitErr) || ctx.Err() != nil:
		return fmt.Errorf("the program did not answer as the isolate shim (does main call isolate.MainIfShim first?): %v", err)
	case err != nil:
		return startHint(mode, err)
	}
	answer, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), "ok ")
	if !ok {
		return fmt.Errorf("the program did not answer as the isolate shim (does main call isolate.MainIfShim first?): stdout %q", firstLine(stdout.String()))
	}
	if own, err := os.Readlink("/proc/self/ns/net"); err == nil && own == answer {
		return fmt.Errorf("the child is still in our network namespace %s", own)
	}
	return nil
}

// startHint adds the usual cause to a refused clone.
func startHint(mode Mode, err error) error {
	var hint string
	switch {
	case errors.Is(err, syscall.ENOSPC):
		hint = "a namespace limit is reached or zero (/proc/sys/user/max_user_namespaces, max_net_namespaces)"
	case errors.Is(err, syscall.EPERM) && mode == NetUser:
		hint = "user namespaces are not allowed here (kernel.unprivileged_userns_clone=0, an AppArmor or SELinux policy, or a container's seccomp filter)"
	case errors.Is(err, syscall.EPERM):
		hint = "refused although CAP_SYS_ADMIN is there (a seccomp filter or security module)"
	case errors.Is(err, syscall.EINVAL):
		hint = "the kernel does not support it"
	case errors.Is(err, syscall.EUSERS):
		hint = "user namespaces nested too deep"
	}
	if hint == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, hint)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// hasCap reports whether the calling thread has capability c in effect.
func hasCap(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0
}

// applyMode adds mode's namespaces to sys (NetUser: NetRoot's come from
// the forking thread).
func applyMode(sys *syscall.SysProcAttr, mode Mode) {
	switch mode {
	case NetUser:
		// An unprivileged user may map exactly its own ids, and only
		// after giving up setgroups. The process's capabilities in the
		// new user namespace would end at its execve (it is not uid 0
		// there), so the shim gets CAP_NET_ADMIN as an ambient
		// capability to bring lo up, and drops it before the test starts.
		sys.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
		uid, gid := os.Geteuid(), os.Getegid()
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		sys.GidMappingsEnableSetgroups = false
		sys.AmbientCaps = append(sys.AmbientCaps, unix.CAP_NET_ADMIN)
	}
}

// shim rewrites w to start the test binary through MainIfShim, for
// NetUser, whose namespaces only a new process can get. NetRoot needs no
// shim: start makes the namespace on a thread and forks from it.
func (w *Wrapped) shim() error {
	if w.Mode == NetRoot {
		return nil
	}
	path := w.Argv[0]
	if !strings.Contains(path, "/") {
		// As exec.Command does; later PATH changes in Env do not count.
		p, err := exec.LookPath(path)
		if err != nil {
			return err
		}
		path = p
	}
	w.Argv = append([]string{selfExe, path}, w.Argv...)
	w.Env = append(w.Env, EnvShim+"="+w.Mode.String())
	applyMode(w.SysProcAttr, w.Mode)
	return nil
}

// MainIfShim makes the program the isolation shim when Wrap's command
// line started it (EnvShim set; NetUser, and Probe's child): it brings lo
// up in its network namespace, drops the capability it needed for that,
// removes EnvShim and replaces itself with the test binary. It never
// returns then: on failure it prints "godist isolate: ..." to stderr and
// exits with ExitShimFailed. Without EnvShim it returns at once. Call it
// first thing in main, before anything starts processes or reads TMPDIR.
func MainIfShim() {
	v, ok := os.LookupEnv(EnvShim)
	if !ok {
		return
	}
	// Capabilities belong to threads: set up, drop and execve on one.
	runtime.LockOSThread()
	probing := strings.HasPrefix(v, probePrefix)
	mode, err := parseMode(strings.TrimPrefix(v, probePrefix))
	if err == nil {
		err = setUp(mode, probing)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "godist isolate: %v\n", err)
		os.Exit(ExitShimFailed)
	}
	if probing {
		ns, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			fmt.Fprintf(os.Stderr, "godist isolate: %v\n", err)
			os.Exit(ExitShimFailed)
		}
		fmt.Printf("ok %s\n", ns)
		os.Exit(0)
	}
	if len(os.Args) < 3 {
		fmt.Fprintf(os.Stderr, "godist isolate: no test command given\n")
		os.Exit(ExitShimFailed)
	}
	os.Unsetenv(EnvShim)
	err = syscall.Exec(os.Args[1], os.Args[2:], os.Environ())
	fmt.Fprintf(os.Stderr, "godist isolate: exec %s: %v\n", os.Args[1], err)
	os.Exit(ExitShimFailed)
}

func parseMode(s string) (Mode, error) {
	for _, m := range []Mode{NetRoot, NetUser} {
		if s == m.String() {
			return m, nil
		}
	}
	return None, fmt.Errorf("bad %s value %q", EnvShim, s)
}

// setUp runs in the shim: lo up, and for NetUser no capabilities left for
// the test binary. The probe also checks that 127.0.0.7 is bindable.
func setUp(mode Mode, probing bool) error {
	if err := loUp(); err != nil {
		if errors.Is(err, unix.EPERM) && mode == NetUser {
			return fmt.Errorf("bring lo up: %w (a user namespace without capabilities: kernel.apparmor_restrict_unprivileged_userns?)", err)
		}
		return fmt.Errorf("bring lo up: %w", err)
	}
	if probing {
		if err := bindable([4]byte{127, 0, 0, 7}); err != nil {
			return fmt.Errorf("bind 127.0.0.7: %w", err)
		}
	}
	if mode == NetUser {
		if err := dropCaps(); err != nil {
			return fmt.Errorf("drop capabilities: %w", err)
		}
	}
	return nil
}

// loUp sets IFF_UP on lo (SIOCSIFFLAGS); the kernel then gives it
// 127.0.0.1/8 and ::1.
func loUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	flags := ifr.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(flags | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

func bindable(addr [4]byte) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Bind(fd, &unix.SockaddrInet4{Addr: addr})
}

// dropCaps clears the ambient and inheritable sets of this thread, so the
// test binary, not uid 0 in its user namespace, starts with none.
func dropCaps() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	return unix.Capset(&hdr, &data[0])
}
