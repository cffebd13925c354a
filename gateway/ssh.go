package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// An ssh gateway runs the system ssh client (so the user's keys, agent,
// known_hosts, ssh_config and ProxyJump apply) with a small POSIX sh script
// as the remote command. The script answers with one marker line on stdout
// before the protocol starts (see PROTOCOL.md, "ssh bootstrap"):
//
//	GODIST-HAVE          the cached worker binary is there; exec'd next
//	GODIST-NEED          send SIZE bytes of binary on stdin
//	GODIST-READY         (after NEED) verified and installed; exec'd next
//	GODIST-ERROR reason  the script gave up; ssh exits
//	GODIST-PLATFORM S/M  uname -s/-m differ from the binary's platform; ssh exits
const (
	markerHave     = "GODIST-HAVE"
	markerNeed     = "GODIST-NEED"
	markerReady    = "GODIST-READY"
	markerError    = "GODIST-ERROR"
	markerPlatform = "GODIST-PLATFORM"
)

// ErrPlatform is wrapped by an *SSHError when the remote host's OS or
// architecture differs from the worker binary's.
var ErrPlatform = errors.New("remote platform differs")

// SSHError says why an ssh gateway could not be started: ssh could not
// connect or log in, the remote has no sh, or the bootstrap failed.
type SSHError struct {
	Host   string // [USER@]HOST[:PORT] as in the spec
	Reason string
	Stderr string // the tail of what ssh and the remote shell wrote to stderr
	Err    error  // ErrPlatform, a context error, or nil
}

func (e *SSHError) Error() string {
	msg := "ssh " + e.Host + ": " + e.Reason
	if e.Stderr != "" {
		msg += fmt.Sprintf(" (stderr: %q)", e.Stderr)
	}
	return msg
}

func (e *SSHError) Unwrap() error { return e.Err }

// BytesShipped is how many bytes of worker binary Open copied to an ssh
// gateway's host: 0 when the host's cache already held this binary, and
// for other kinds of gateway.
func (g *Gateway) BytesShipped() int64 { return g.shipped }

// sshConnectTimeout caps ssh's ConnectTimeout; a shorter Open context
// lowers it.
const sshConnectTimeout = 15 * time.Second

// localPlatform is GOOS/GOARCH of the shipped binary (a variable for tests).
var localPlatform = runtime.GOOS + "/" + runtime.GOARCH

func openSSH(ctx context.Context, spec Spec, opts Options) (*Gateway, error) {
	fail := func(err error) (*Gateway, error) {
		return nil, fmt.Errorf("gateway %s: open %s: %w", spec.ID, spec.Raw, err)
	}
	local, err := workerBinary(opts)
	if err != nil {
		return fail(err)
	}
	host := sshHostFor(spec, local)
	// The first connection to a host this process has not bootstrapped yet
	// goes alone, so that gateways opened together ship the binary once
	// (and ask Options.WorkerFor once when the host turns out to be of
	// another platform).
	release, err := host.acquire(ctx)
	if err != nil {
		return fail(&SSHError{Host: sshHostName(spec), Reason: "waiting for other gateways to this host to start: " + err.Error(), Err: err})
	}
	defer release()

	bin, platform, err := host.worker(ctx, spec, opts, local)
	if err != nil {
		return fail(err)
	}
	g, conn, tail, err := sshBootstrap(ctx, spec, opts, bin, platform)
	var uname *remoteUname
	if errors.As(err, &uname) && platform == localPlatform {
		// Learnt only now: ask for that platform's binary and start over
		// on a new connection (the script has exited).
		host.setUname(uname)
		if bin, platform, err = host.worker(ctx, spec, opts, local); err != nil {
			return fail(err)
		}
		g, conn, tail, err = sshBootstrap(ctx, spec, opts, bin, platform)
	}
	if se := (*SSHError)(nil); errors.As(err, &se) {
		return fail(se)
	} else if err != nil {
		return nil, err // startProcess's, naming the gateway already
	}
	host.have.Store(true)
	release()
	if err := g.start(ctx, conn, opts); err != nil {
		perr := g.abort()
		if perr != nil {
			err = fmt.Errorf("%w (ssh: %v)", err, perr)
		}
		if s := tail.String(); s != "" {
			err = fmt.Errorf("%w (stderr: %q)", err, s)
		}
		return nil, err
	}
	out := opts.Stderr
	if out == nil {
		out = os.Stderr
	}
	tail.forward(out)
	return g, nil
}

// sshBootstrap starts ssh with the bootstrap script for bin, a binary for
// platform, and ships bin if the host asks for it. On success the gateway's
// process runs and conn is at the start of the channel handshake; on
// failure ssh has been reaped and the error is an *SSHError (whose Err is
// a *remoteUname when the host's platform is not platform), or
// startProcess's.
func sshBootstrap(ctx context.Context, spec Spec, opts Options, bin workerFile, platform string) (*Gateway, pipeConn, *stderrTail, error) {
	tail := &stderrTail{}
	popts := opts
	popts.Stderr = tail
	g, conn, err := startProcess(spec, sshArgv(ctx, spec, bootstrapScript(bin, platform)), popts)
	if err != nil {
		return nil, pipeConn{}, nil, err
	}
	shipped, err := bootstrap(ctx, conn, bin)
	if err != nil {
		se := &SSHError{Reason: err.Error()}
		errors.As(err, &se)
		if ru, ok := se.Err.(*remoteUname); ok {
			ru.binary = platform
			se.Reason = ru.describe()
		}
		perr := g.abort()
		conn.Close()
		if perr != nil && se.Err == nil {
			se.Reason += " (ssh: " + perr.Error() + ")"
		}
		return nil, pipeConn{}, nil, &SSHError{Host: sshHostName(spec), Reason: se.Reason, Stderr: tail.String(), Err: se.Err}
	}
	g.shipped = shipped
	return g, conn, tail, nil
}

func sshHostName(spec Spec) string {
	if spec.User != "" {
		return spec.User + "@" + spec.Addr
	}
	return spec.Addr
}

// sshArgv is the ssh command line: no tty, no prompts (BatchMode), a
// bounded connect, keep-alives so that a vanished host ends the gateway.
func sshArgv(ctx context.Context, spec Spec, remoteCommand string) []string {
	timeout := sshConnectTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	secs := max(1, int((timeout+time.Second-1)/time.Second))
	argv := []string{"ssh", "-T", "-e", "none",
		"-o", "BatchMode=yes",
		"-o", "ConnectTimeout=" + strconv.Itoa(secs),
		"-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
	}
	if spec.SSHConfig != "" {
		argv = append(argv, "-F", spec.SSHConfig)
	}
	host := spec.Addr
	if h, port, err := net.SplitHostPort(spec.Addr); err == nil {
		host = h
		argv = append(argv, "-p", port)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if spec.User != "" {
		argv = append(argv, "-l", spec.User)
	}
	return append(argv, "--", host, remoteCommand)
}

// workerFile is the binary an ssh gateway runs remotely.
type workerFile struct {
	path string
	size int64
	sum  string // hex sha256
}

var workerFiles struct {
	mu sync.Mutex
	m  map[string]workerFile // by path, size and mtime
}

// workerBinary finds and hashes the binary to ship (hashed once per
// process unless the file changes).
func workerBinary(opts Options) (workerFile, error) {
	var path string
	if len(opts.WorkerCommand) > 0 {
		p, err := exec.LookPath(opts.WorkerCommand[0])
		if err != nil {
			return workerFile{}, fmt.Errorf("worker binary: %w", err)
		}
		path = p
	} else {
		p, err := os.Executable()
		if err != nil {
			return workerFile{}, fmt.Errorf("worker binary: %w", err)
		}
		path = p
	}
	wf, err := hashWorker(path)
	if err != nil {
		return workerFile{}, fmt.Errorf("worker binary: %w", err)
	}
	return wf, nil
}

// hashWorker sizes and hashes the file at path, once per process unless
// the file changes.
func hashWorker(path string) (workerFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return workerFile{}, err
	}
	if !st.Mode().IsRegular() {
		return workerFile{}, fmt.Errorf("%s is not a regular file", path)
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", path, st.Size(), st.ModTime().UnixNano())
	workerFiles.mu.Lock()
	defer workerFiles.mu.Unlock()
	if wf, ok := workerFiles.m[key]; ok {
		return wf, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return workerFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return workerFile{}, err
	}
	wf := workerFile{path: path, size: n, sum: hex.EncodeToString(h.Sum(nil))}
	if workerFiles.m == nil {
		workerFiles.m = map[string]workerFile{}
	}
	workerFiles.m[key] = wf
	return wf, nil
}

// sshHost is what this process knows about one remote account.
type sshHost struct {
	first chan struct{} // one slot: held while bootstrapping an unknown host
	// starting bounds connections of this process that are logging in or
	// bootstrapping: sshd drops unauthenticated connections beyond
	// MaxStartups (default 10:30:100).
	starting chan struct{}
	have     atomic.Bool // a bootstrap there found or installed the binary worker returns

	mu    sync.Mutex
	uname *remoteUname // set when the host is not of the local binary's platform
	other *workerFile  // Options.WorkerFor's binary for that platform, once known
}

// sshMaxStarting is below sshd's default MaxStartups start value (10).
const sshMaxStarting = 8

var sshHosts struct {
	mu sync.Mutex
	m  map[string]*sshHost
}

func sshHostFor(spec Spec, bin workerFile) *sshHost {
	key := strings.Join([]string{spec.User, spec.Addr, spec.SSHConfig, bin.sum}, "\x00")
	sshHosts.mu.Lock()
	defer sshHosts.mu.Unlock()
	h := sshHosts.m[key]
	if h == nil {
		h = &sshHost{first: make(chan struct{}, 1), starting: make(chan struct{}, sshMaxStarting)}
		if sshHosts.m == nil {
			sshHosts.m = map[string]*sshHost{}
		}
		sshHosts.m[key] = h
	}
	return h
}

// acquire takes a start slot, and the bootstrap slot too unless the binary
// is known to be there; the returned release is idempotent.
func (h *sshHost) acquire(ctx context.Context) (release func(), err error) {
	take := func(sem chan struct{}) error {
		select {
		case sem <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var held []chan struct{}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, sem := range held {
				<-sem
			}
		})
	}
	if !h.have.Load() {
		if err := take(h.first); err != nil {
			return nil, err
		}
		if h.have.Load() {
			<-h.first // the one before us installed it: go in parallel
		} else {
			held = append(held, h.first)
		}
	}
	if err := take(h.starting); err != nil {
		release()
		return nil, err
	}
	held = append(held, h.starting)
	return release, nil
}

// setUname records that the host is not of the local binary's platform.
func (h *sshHost) setUname(u *remoteUname) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uname = u
}

// worker is the binary to ship to the host and the platform it is for:
// the local binary unless a bootstrap found the host to be of another
// platform, then the one Options.WorkerFor gives for it (asked once per
// host, by the gateway holding the host's bootstrap slot). The error is an
// *SSHError wrapping ErrPlatform.
func (h *sshHost) worker(ctx context.Context, spec Spec, opts Options, local workerFile) (workerFile, string, error) {
	h.mu.Lock()
	u, other := h.uname, h.other
	h.mu.Unlock()
	if u == nil {
		return local, localPlatform, nil
	}
	goos, goarch, ok := unamePlatform(u.sys, u.machine)
	if other != nil {
		return *other, goos + "/" + goarch, nil
	}
	platformErr := func(reason string, err error) (workerFile, string, error) {
		cause := ErrPlatform
		if err != nil {
			cause = fmt.Errorf("%w: %w", ErrPlatform, err)
		}
		return workerFile{}, "", &SSHError{Host: sshHostName(spec), Reason: u.describe() + reason, Err: cause}
	}
	if !ok {
		return platformErr(fmt.Sprintf(", and uname %q %q is no GOOS/GOARCH known to godist", u.sys, u.machine), nil)
	}
	platform := goos + "/" + goarch
	if opts.WorkerFor == nil {
		return platformErr(", and no worker binary for "+platform+" was provided (Options.WorkerFor)", nil)
	}
	path, err := opts.WorkerFor(ctx, goos, goarch)
	if err == nil {
		var wf workerFile
		if wf, err = hashWorker(path); err == nil {
			h.mu.Lock()
			h.other = &wf
			h.mu.Unlock()
			return wf, platform, nil
		}
	}
	return platformErr("; worker binary for "+platform+": "+err.Error(), err)
}

// remoteUname is what an ssh host's bootstrap found when the binary on
// offer was not for its platform: the Err of an *SSHError, which is
// ErrPlatform (errors.Is).
type remoteUname struct {
	sys, machine string // uname -s, uname -m
	binary       string // GOOS/GOARCH of the binary the script was told about
}

func (u *remoteUname) Error() string        { return ErrPlatform.Error() + ": " + u.describe() }
func (u *remoteUname) Is(target error) bool { return target == ErrPlatform }

func (u *remoteUname) describe() string {
	msg := "remote is " + plainWord(u.sys) + " " + plainWord(u.machine)
	if goos, goarch, ok := unamePlatform(u.sys, u.machine); ok {
		msg += " (" + goos + "/" + goarch + ")"
	}
	return msg + ", this godist is " + u.binary
}

// plainWord is s, quoted unless it is a plain word (the remote's uname
// is untrusted input).
func plainWord(s string) string {
	if s == "" || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
		return strconv.Quote(s)
	}
	return s
}

// unamePatterns maps GOOS and GOARCH to what `uname -s` and `uname -m`
// print there.
var (
	unameOS = map[string][]string{
		"linux": {"Linux"}, "darwin": {"Darwin"}, "freebsd": {"FreeBSD"},
		"netbsd": {"NetBSD"}, "openbsd": {"OpenBSD"}, "dragonfly": {"DragonFly"},
		"solaris": {"SunOS"}, "illumos": {"SunOS"}, "aix": {"AIX"},
	}
	unameArch = map[string][]string{
		"amd64": {"x86_64", "amd64", "i86pc"}, "386": {"i386", "i486", "i586", "i686"},
		"arm64": {"aarch64", "arm64"}, "arm": {"armv6l", "armv7l", "armv7", "armv8l", "arm"},
		"riscv64": {"riscv64"}, "ppc64le": {"ppc64le"}, "ppc64": {"ppc64"},
		"s390x": {"s390x"}, "loong64": {"loongarch64"}, "mips64le": {"mips64"},
	}
)

// unamePlatform is the GOOS/GOARCH of a host whose `uname -s` and `uname
// -m` print sys and machine (the reverse of unameOS and unameArch), for
// the ports godist can build a worker for. SunOS is solaris, whose
// binaries illumos runs too; "i86pc" is what both print on amd64 (Go has no
// 386 port there). A machine name shared by several GOARCHes (mips64) is
// not known.
func unamePlatform(sys, machine string) (goos, goarch string, ok bool) {
	for o, names := range unameOS {
		if slices.Contains(names, sys) && (goos == "" || o == "solaris") {
			goos = o
		}
	}
	for a, names := range unameArch {
		if slices.Contains(names, machine) {
			if goarch != "" {
				return "", "", false
			}
			goarch = a
		}
	}
	if goarch == "mips64le" {
		return "", "", false // uname -m says mips64 on either endianness
	}
	return goos, goarch, goos != "" && goarch != ""
}

// platformPattern is a sh case pattern matching "$(uname -s)/$(uname -m)"
// on machines that run platform (GOOS/GOARCH); "*" when unknown.
func platformPattern(platform string) string {
	goos, goarch, _ := strings.Cut(platform, "/")
	oss, archs := unameOS[goos], unameArch[goarch]
	if oss == nil || archs == nil {
		return "*"
	}
	var alts []string
	for _, o := range oss {
		for _, a := range archs {
			alts = append(alts, o+"/"+a)
		}
	}
	return strings.Join(alts, "|")
}

// bootstrapScript is the remote command: `sh -c SCRIPT godist-boot SUM
// SIZE`. The script is one line without single quotes or `!`, so that any
// login shell (sh, bash, zsh, fish, csh) passes it to sh unchanged.
func bootstrapScript(bin workerFile, platform string) string {
	script := strings.Join([]string{
		`case "$(uname -s)/$(uname -m)" in ` + platformPattern(platform) + `) ;; *) echo "` + markerPlatform + ` $(uname -s)/$(uname -m)"; exit 1;; esac`,
		`d="${XDG_CACHE_HOME:-$HOME/.cache}/godist/bin"`,
		`f="$d/godist-$1"`,
		`if [ -x "$f" ]; then echo ` + markerHave + `; exec env ` + WorkerEnv + `=1 "$f" worker; fi`,
		`mkdir -p "$d" || { echo "` + markerError + ` cannot create $d"; exit 1; }`,
		`t="$d/.godist-$1.$$"`,
		`cleanup() { rm -f "$t"; }`,
		`trap cleanup 0`,
		`echo ` + markerNeed,
		`head -c "$2" > "$t" || { echo "` + markerError + ` cannot write $t"; exit 1; }`,
		`n=$(($(wc -c < "$t")))`,
		`[ "$n" = "$2" ] || { echo "` + markerError + ` received $n of $2 bytes"; exit 1; }`,
		`if command -v sha256sum >/dev/null 2>&1; then h=$(sha256sum < "$t"); ` +
			`elif command -v shasum >/dev/null 2>&1; then h=$(shasum -a 256 < "$t"); ` +
			`elif command -v sha256 >/dev/null 2>&1; then h=$(sha256 -q < "$t"); ` +
			`elif command -v openssl >/dev/null 2>&1; then h=$(openssl dgst -sha256 -r < "$t"); ` +
			`else h=$1; fi`,
		`h=${h%% *}`,
		`[ "$h" = "$1" ] || { echo "` + markerError + ` checksum mismatch: got $h"; exit 1; }`,
		`chmod 755 "$t" && mv -f "$t" "$f" || { echo "` + markerError + ` cannot install $f"; exit 1; }`,
		`echo ` + markerReady,
		`exec env ` + WorkerEnv + `=1 "$f" worker`,
	}, "; ")
	if strings.ContainsAny(script, "'!\n") {
		panic("gateway: ssh bootstrap script contains a quote, ! or newline")
	}
	return "sh -c '" + script + "' godist-boot " + bin.sum + " " + strconv.FormatInt(bin.size, 10)
}

// maxPrelude bounds what a login shell may print on stdout before the
// script's first marker (e.g. from .bashrc).
const maxPrelude = 64 << 10

// bootstrap reads the script's marker and ships the binary if asked; it
// returns the bytes shipped. ctx bounds it through pipe deadlines.
func bootstrap(ctx context.Context, conn pipeConn, bin workerFile) (int64, error) {
	stop := context.AfterFunc(ctx, func() {
		conn.r.SetReadDeadline(time.Now())
		conn.w.SetWriteDeadline(time.Now())
	})
	shipped, err := bootstrapSteps(conn, bin)
	if !stop() {
		// The deadlines were (or are being) set: the set-up is over.
		if err == nil {
			err = &SSHError{Reason: "bootstrap interrupted", Err: ctx.Err()}
		}
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = &SSHError{Reason: "bootstrap: " + cerr.Error(), Err: cerr}
		}
		return 0, err
	}
	conn.r.SetReadDeadline(time.Time{})
	conn.w.SetWriteDeadline(time.Time{})
	return shipped, nil
}

func bootstrapSteps(conn pipeConn, bin workerFile) (int64, error) {
	var prelude bytes.Buffer
	marker, err := readMarker(conn.r, &prelude)
	if err != nil {
		return 0, err
	}
	switch {
	case marker == markerHave:
		return 0, nil
	case marker == markerNeed:
	case strings.HasPrefix(marker, markerPlatform+" "):
		uname := strings.TrimPrefix(marker, markerPlatform+" ")
		i := strings.LastIndex(uname, "/") // uname -m has no slash
		if i < 0 {
			return 0, &SSHError{Reason: fmt.Sprintf("bootstrap: bad platform answer %q", marker)}
		}
		ru := &remoteUname{sys: uname[:i], machine: uname[i+1:]}
		return 0, &SSHError{Reason: "remote is " + plainWord(ru.sys) + " " + plainWord(ru.machine), Err: ru}
	case strings.HasPrefix(marker, markerError):
		return 0, &SSHError{Reason: "bootstrap: " + strings.TrimSpace(strings.TrimPrefix(marker, markerError))}
	default:
		return 0, &SSHError{Reason: fmt.Sprintf("bootstrap: unexpected answer %q", marker)}
	}
	f, err := os.Open(bin.path)
	if err != nil {
		return 0, fmt.Errorf("worker binary: %w", err)
	}
	defer f.Close()
	n, err := io.CopyN(conn.w, f, bin.size)
	if err != nil {
		reason := fmt.Sprintf("shipping %s: sent %d of %d bytes: %v", bin.path, n, bin.size, err)
		if m, merr := readMarker(conn.r, &prelude); merr == nil && strings.HasPrefix(m, markerError) {
			reason += ": " + strings.TrimSpace(strings.TrimPrefix(m, markerError)) // the script's own account
		}
		return n, &SSHError{Reason: reason}
	}
	marker, err = readMarker(conn.r, &prelude)
	if err != nil {
		return n, err
	}
	if marker != markerReady {
		reason := strings.TrimSpace(strings.TrimPrefix(marker, markerError))
		return n, &SSHError{Reason: "bootstrap after shipping the binary: " + reason}
	}
	return n, nil
}

// readMarker reads lines byte by byte (nothing past the marker may be
// consumed: the protocol follows) until one starting with "GODIST-".
func readMarker(r io.Reader, prelude *bytes.Buffer) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] != '\n' {
				line = append(line, b[0])
				if prelude.Len()+len(line) > maxPrelude {
					return "", &SSHError{Reason: fmt.Sprintf("remote printed more than %d bytes without a bootstrap answer: %q...", maxPrelude, truncate(prelude.String(), 200))}
				}
				continue
			}
			s := strings.TrimSuffix(string(line), "\r")
			if strings.HasPrefix(s, "GODIST-") {
				return s, nil
			}
			prelude.WriteString(s + "\n")
			line = line[:0]
			continue
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return "", err
		}
		prelude.Write(line)
		reason := "ssh ended before the remote bootstrap answered"
		if errors.Is(err, io.EOF) && prelude.Len() > 0 {
			reason += fmt.Sprintf(" (stdout: %q)", truncate(prelude.String(), 200))
		} else if !errors.Is(err, io.EOF) {
			reason += ": " + err.Error()
		}
		return "", &SSHError{Reason: reason}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// stderrTail keeps the last bytes ssh writes to stderr while the gateway
// starts (for the error message), then forwards to the gateway's Stderr.
type stderrTail struct {
	mu  sync.Mutex
	buf []byte
	out io.Writer
}

const stderrTailMax = 2048

func (s *stderrTail) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out != nil {
		return s.out.Write(p)
	}
	s.buf = append(s.buf, p...)
	if len(s.buf) > stderrTailMax {
		s.buf = append(s.buf[:0], s.buf[len(s.buf)-stderrTailMax:]...)
	}
	return len(p), nil
}

// forward sends later writes to w; what was kept so far is dropped (ssh's
// warnings of a successful start, e.g. a newly added known host).
func (s *stderrTail) forward(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out, s.buf = w, nil
}

func (s *stderrTail) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(string(s.buf))
}
