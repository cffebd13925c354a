// Package isolate runs a test process in a network namespace of its own,
// with only a loopback interface up, and with a TMPDIR of its own, so that
// several processes of one test package can run at the same time without
// colliding on fixed ports, 127.0.0.N addresses or files in the temporary
// directory.
//
// os/exec cannot run code in the child between clone and exec, and the
// loopback interface of a fresh network namespace is down. So the
// launcher does not start the test binary directly: [Wrap] rewrites its
// command line into a re-exec of the current program (through
// /proc/self/exe) with a marker in the environment, and asks for the new
// namespaces in the SysProcAttr's clone flags. The program calls
// [MainIfShim] first thing in main (and in TestMain of packages whose
// test binary is the program, as this package's own tests do); when it
// finds the marker, it brings lo up, removes the marker and replaces
// itself with the test binary (execve), so the process id, process group
// and signal delivery stay the launcher's. The test binary, and every
// process it starts, lives in the namespace; the namespace ends with its
// last process.
//
// Which kind of namespace works is found out once per process by [Probe],
// which starts one isolated child and reads its answer: [NetRoot]
// (CLONE_NEWNET, with CAP_SYS_ADMIN, i.e. root), [NetUser]
// (CLONE_NEWUSER|CLONE_NEWNET, for unprivileged users where the kernel
// allows user namespaces), or [None] with the reason. Under None, Wrap
// leaves the command line and the SysProcAttr as they are; the private
// TMPDIR works everywhere. On other systems than Linux the mode is None.
//
// The trade-off: a test in the namespace cannot reach the host's network.
// A database listening on the host's localhost is refused, any other
// address is unreachable, and so is a DNS server. [HostNetworkHint] finds
// these symptoms in a failed test's output, so that a caller can run the
// test again without isolation before calling it a failure, and remember
// that it needs the host.
//
// Goroutines: none of this package's own. Probe waits for its child
// process (os/exec's copying goroutines end with it); MainIfShim either
// returns at once or never returns.
package isolate
