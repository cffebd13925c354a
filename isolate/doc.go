// Package isolate runs a test process in a network namespace of its own,
// with only a loopback interface up, and with a TMPDIR of its own, so that
// several processes of one test package can run at the same time without
// colliding on fixed ports, 127.0.0.N addresses or files in the temporary
// directory.
//
// The loopback interface of a fresh network namespace is down, and
// os/exec cannot run code in the child between clone and exec. Two ways
// round that, one per mode:
//
//   - As root ([NetRoot]), [Wrapped.Start] makes the namespace on a locked
//     thread of the launcher (unshare CLONE_NEWNET, lo up with an ioctl)
//     and forks the test binary from that thread, which then returns to the
//     host's namespace; a child is born in the namespaces of the thread that
//     forks it. One exec, as without isolation.
//   - Unprivileged ([NetUser]), a user namespace is needed, which only a new
//     process can enter. [Wrap] rewrites the command line into a re-exec of
//     the current program (through /proc/self/exe) with a marker in the
//     environment and the namespaces in the SysProcAttr's clone flags. The
//     program calls [MainIfShim] first thing in main (and in TestMain of
//     packages whose test binary is the program, as this package's own tests
//     do); finding the marker, it brings lo up, drops the capability that
//     took, removes the marker and replaces itself with the test binary
//     (execve), so the process id, process group and signal delivery stay
//     the launcher's.
//
// Either way the test binary, and every process it starts, lives in the
// namespace, and the namespace ends with its last process.
//
// Which kind of namespace works is found out once per process by [Probe],
// which tries it for real: [NetRoot] (with CAP_SYS_ADMIN, i.e. root; tried
// on a thread, well under a millisecond), [NetUser] (CLONE_NEWUSER and
// CLONE_NEWNET, for unprivileged users where the kernel allows user
// namespaces; one shim child, a few milliseconds), or [None] with the
// reason. Under None, Wrap
// leaves the command line and the SysProcAttr as they are; the private
// TMPDIR works everywhere. On other systems than Linux the mode is None.
//
// A launcher uses it like this:
//
//	func main() {
//		isolate.MainIfShim() // first thing: may become the test binary
//		...
//	}
//
//	w, err := isolate.Wrap(argv, env, &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}, isolate.Options{})
//	cmd := exec.CommandContext(ctx, w.Argv[0], w.Argv[1:]...)
//	cmd.Dir, cmd.Env, cmd.SysProcAttr = pkgDir, w.Env, w.SysProcAttr
//	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
//	err = w.Start(cmd) // not cmd.Start
//	err = cmd.Wait()
//	w.Cleanup()        // the private TMPDIR
//
// Costs, measured on 2 loaded cores (BenchmarkStart, BenchmarkProbe): a
// test binary that exits at once takes 3.6 ms plain, 4.3 ms with the
// private TMPDIR alone (mkdir and rmdir on ext4), 5.0 ms under NetRoot,
// 11.4 ms under NetUser, whose shim is a second start of the program (this
// package's test binary; godist itself starts in about 10 ms). Probe takes
// 0.8 ms as root, 6 ms through a user namespace. The kernel frees a
// network namespace after its last process, asynchronously.
//
// The trade-off: a test in the namespace cannot reach the host's network.
// A database listening on the host's localhost is refused, any other
// address is unreachable, and so is a DNS server. [HostNetworkHint] finds
// these symptoms in a failed test's output, so that a caller can run the
// test again without isolation before calling it a failure, and remember
// that it needs the host; a test can also read EnvMode and skip itself.
// Under NetUser the process sees the file system through its user
// namespace: files of users other than its own show as owned by nobody,
// its supplementary groups as nogroup, and it cannot setgroups; its uid
// and gid are as outside, and it has no capabilities (an unprivileged
// user's test never had any). Under NetRoot nothing but the network
// differs.
//
// Pdeathsig, when the launcher sets it, follows the thread that forked the
// child, as always: Start forks NetRoot children from a thread that goes
// back to the Go runtime's pool afterwards (or, should it fail to return
// to the host's namespace, ends, and with it such children).
//
// Goroutines: Probe and Wrapped.Start run one, on a thread of its own,
// and return after it ended; Probe waits for its child process (os/exec's
// copying goroutines end with it). MainIfShim either returns at once or
// never returns.
package isolate
