package testcache

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ID is a SHA-256 hash: a binary's identity, a Key, an inputs hash.
type ID [32]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Key is the first level of the lookup: a test binary's identity and the
// cacheable test arguments (go test's testID).
type Key = ID

// NewKey returns the Key of running the binary identified by binary with
// the cacheable arguments keyArgs (Flags.KeyArgs) — go test's
// `test binary <id> args <args> execcmd ""`. extra is for what else must
// tell results apart that go test keys elsewhere (e.g. a -coverpkg
// meta-data hash); pass nothing to make go test's decision.
//
// The zero binary ID (no identity known) gives the zero Key, which Get
// always misses and Put refuses.
func NewKey(binary ID, keyArgs []string, extra ...string) Key {
	if binary == (ID{}) {
		return Key{}
	}
	h := sha256.New()
	fmt.Fprintf(h, "testResult\ntest binary %x args %q execcmd %q", binary, keyArgs, []string(nil))
	for _, e := range extra {
		fmt.Fprintf(h, "\nextra %q", e)
	}
	return sum(h)
}

// ContentID returns the identity of a linked test binary (go test's second
// level, from the link output): the content ID that ends its Go build ID,
// which the linker computed over the binary with the build ID itself left
// out. It reads only the ELF note, or searches the start of other formats;
// a binary without a Go build ID is hashed whole.
func ContentID(binaryPath string) (ID, error) {
	f, err := os.Open(binaryPath)
	if err != nil {
		return ID{}, fmt.Errorf("testcache: content id: %w", err)
	}
	defer f.Close()
	if bid := readBuildID(f); bid != "" {
		content := bid[strings.LastIndexByte(bid, '/')+1:]
		h := sha256.New()
		io.WriteString(h, "content "+content)
		return sum(h), nil
	}
	h := sha256.New()
	io.WriteString(h, "file\n")
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ID{}, fmt.Errorf("testcache: content id: %w", err)
	}
	if _, err := io.Copy(h, f); err != nil {
		return ID{}, fmt.Errorf("testcache: content id: %w", err)
	}
	return sum(h), nil
}

// readBuildID returns the Go build ID of an executable, or "".
func readBuildID(f *os.File) string {
	if ef, err := elf.NewFile(f); err == nil {
		if s := ef.Section(".note.go.buildid"); s != nil {
			data, err := s.Data()
			// An ELF note: namesz, descsz, type, "Go\x00\x00", desc.
			if err == nil && len(data) >= 16 && string(data[12:16]) == "Go\x00\x00" {
				n := binary.LittleEndian.Uint32(data[4:8])
				if ef.ByteOrder == binary.BigEndian {
					n = binary.BigEndian.Uint32(data[4:8])
				}
				if 16+int(n) <= len(data) {
					return string(data[16 : 16+n])
				}
			}
		}
	}
	// Other formats: the linker puts the ID near the start of the text.
	buf := make([]byte, 64<<10)
	n, _ := f.ReadAt(buf, 0)
	buf = buf[:n]
	const prefix, suffix = "\xff Go build ID: \"", "\"\n \xff"
	i := bytes.Index(buf, []byte(prefix))
	if i < 0 {
		return ""
	}
	rest := buf[i+len(prefix):]
	j := bytes.Index(rest, []byte(suffix))
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// KeyQuery asks for the link-level identities of test binaries.
type KeyQuery struct {
	Dir        string   // where to run go (the main module)
	Env        []string // go's environment; nil: os.Environ()
	GoCmd      string   // default "go"
	BuildFlags []string // the build flags the binaries are built with (-race, -tags, -ldflags, -cover...)
	Packages   []string // package patterns, as given to go test
}

// PackageKey is one package's test binary identity before linking.
type PackageKey struct {
	ImportPath string
	Dir        string // package directory
	Root       string // module root, GOPATH entry or GOROOT (go list's .Root)
	Binary     ID     // zero if the package has no test binary (no test files) or failed to build
	Err        string // go list's error for the package, if any
}

// linkEnvVars are the settings that change a link without changing any
// compiled package's content (the rest show in the packages' build IDs).
var linkEnvVars = []string{"GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED",
	"CGO_LDFLAGS", "CC", "CXX", "GOEXPERIMENT", "GOROOT", "GO_EXTLINK_ENABLED", "GOFIPS140"}

// LinkKeys returns, for each package of q.Packages with test files, an
// identity of its test binary computed without linking: a hash of the
// content IDs of every package the binary links (`go list -test -deps
// -export`, which compiles, or finds in the build cache, what go test -c
// would, but does not link), their modules' versions, the build flags
// and the link-relevant go env settings. It stands for go test's link
// action ID: equal keys mean the linker would get the same inputs.
func LinkKeys(ctx context.Context, q KeyQuery) (map[string]PackageKey, error) {
	gocmd := q.GoCmd
	if gocmd == "" {
		gocmd = "go"
	}
	const sep = "\x1f"
	format := strings.Join([]string{"{{.ImportPath}}", "{{.Name}}", "{{.BuildID}}", "{{.Root}}", "{{.Dir}}",
		"{{with .Module}}{{.Path}}@{{.Version}}{{with .Replace}}=>{{.Path}}@{{.Version}}{{end}}{{end}}",
		`{{join .Deps "\x1e"}}`, `{{with .Error}}{{printf "%q" .Err}}{{end}}`}, sep) // quoted: an error spans lines
	args := append([]string{"list", "-e", "-test", "-deps", "-export", "-f", format}, q.BuildFlags...)
	args = append(args, "--")
	args = append(args, q.Packages...)

	var envOut []byte
	var envErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		cmd := exec.CommandContext(ctx, gocmd, append([]string{"env"}, linkEnvVars...)...)
		cmd.Dir, cmd.Env = q.Dir, q.Env
		envOut, envErr = cmd.Output()
	})
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir, cmd.Env = q.Dir, q.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("testcache: go list: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if envErr != nil {
		return nil, fmt.Errorf("testcache: go env: %w", envErr)
	}

	type entry struct {
		name, buildID, root, dir, module, err string
		deps                                  []string
	}
	entries := map[string]entry{}
	var mains []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), sep)
		if len(f) != 8 {
			return nil, fmt.Errorf("testcache: go list: unexpected line %q", sc.Text())
		}
		e := entry{name: f[1], buildID: f[2], root: f[3], dir: f[4], module: f[5], err: f[7]}
		if uq, err := strconv.Unquote(f[7]); err == nil {
			e.err = uq
		}
		if f[6] != "" {
			e.deps = strings.Split(f[6], "\x1e")
		}
		entries[f[0]] = e
		if e.name == "main" && strings.HasSuffix(f[0], ".test") {
			mains = append(mains, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("testcache: go list: %w", err)
	}

	keys := map[string]PackageKey{}
	for _, m := range mains {
		e := entries[m]
		pk := PackageKey{ImportPath: strings.TrimSuffix(m, ".test"), Dir: e.dir, Root: e.root, Err: e.err}
		h := sha256.New()
		fmt.Fprintf(h, "godist testcache link v1\nenv %q\nbuildflags %q\n", envOut, q.BuildFlags)
		deps := append([]string{m}, e.deps...)
		sort.Strings(deps)
		ok := e.err == ""
		for _, d := range deps {
			if d == "unsafe" {
				continue // no archive: nothing to link
			}
			de, found := entries[d]
			content := de.buildID[strings.LastIndexByte(de.buildID, '/')+1:]
			if !found || de.err != "" || content == "" {
				ok = false
				if pk.Err == "" && found {
					pk.Err = de.err
				}
				break
			}
			fmt.Fprintf(h, "packagefile %s=%s %s\n", d, content, de.module)
		}
		if ok {
			pk.Binary = sum(h)
		}
		keys[pk.ImportPath] = pk
	}
	return keys, nil
}
