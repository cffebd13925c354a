package gateway

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Spec kinds.
const (
	KindPopen  = "popen"
	KindSocket = "socket"
	KindExec   = "exec"
	KindSSH    = "ssh"
)

// Spec describes one gateway, parsed from execnet's xspec syntax:
//
//	popen//id=a//chdir=/tmp/w//env:K=V//nice=5
//	socket=127.0.0.1:8888
//	exec=docker exec -i c godist worker
//	ssh=user@host:2222//ssh_config=/home/me/.ssh/ci_config
//	3*popen
//
// Chdir, Env and Nice are applied by the worker after the handshake, for
// every kind of transport.
type Spec struct {
	Kind    string            // popen, socket, exec or ssh
	Addr    string            // socket: HOST:PORT; ssh: HOST or HOST:PORT
	User    string            // ssh: optional user
	Command string            // exec: the shell command (run with sh -c)
	ID      string            // //id=; empty means "assigned by the group" (gw0, gw1, ...)
	Chdir   string            // //chdir=; the worker creates it if missing and changes into it
	Env     map[string]string // //env:NAME=VALUE; set in the worker's environment
	Nice    int               // //nice=N; added to the worker's niceness
	// SSHConfig is //ssh_config=PATH (ssh only): passed to ssh as -F PATH.
	SSHConfig string
	// TokenFile is //token-file=PATH (socket only): the shared token to
	// authenticate with; empty means $GODIST_TOKEN, if set (see auth.go).
	TokenFile string
	TLS       bool   // //tls (socket only): speak TLS, verify against the system roots
	TLSCA     string // //tls-ca=FILE (socket only): speak TLS, verify against this CA (PEM)
	Raw       string // the text this spec was parsed from (without any N* prefix)
}

// SpecError reports a spec string that could not be parsed.
type SpecError struct {
	Spec   string // the whole input
	Reason string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("gateway: parse spec %q: %s", e.Spec, e.Reason)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseSpec parses one xspec string. A "N*" prefix yields N copies of the
// spec; otherwise the result has exactly one element.
func ParseSpec(s string) ([]Spec, error) {
	bad := func(format string, args ...any) ([]Spec, error) {
		return nil, &SpecError{Spec: s, Reason: fmt.Sprintf(format, args...)}
	}
	count := 1
	rest := s
	if i := strings.Index(s, "*"); i > 0 && isDigits(s[:i]) {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 1 || n > 10000 {
			return bad("count %q out of range 1..10000", s[:i])
		}
		count, rest = n, s[i+1:]
	}
	if rest == "" {
		return bad("empty spec")
	}
	parts := strings.Split(rest, "//")
	var sp Spec
	sp.Raw = rest
	kind, value, hasValue := strings.Cut(parts[0], "=")
	sp.Kind = kind
	switch kind {
	case KindPopen:
		if hasValue {
			return bad("popen takes no value, got %q", value)
		}
	case KindSocket:
		host, port, err := net.SplitHostPort(value)
		if err != nil || host == "" {
			return bad("socket wants HOST:PORT, got %q", value)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return bad("socket port %q is not a number in 1..65535", port)
		}
		sp.Addr = value
	case KindExec:
		if strings.TrimSpace(value) == "" {
			return bad("exec wants a command, as in exec=COMMAND")
		}
		sp.Command = value
	case KindSSH:
		if u, h, ok := strings.Cut(value, "@"); ok {
			if u == "" {
				return bad("ssh user before @ is empty in %q", value)
			}
			sp.User, value = u, h
		}
		if value == "" {
			return bad("ssh wants [USER@]HOST[:PORT]")
		}
		if host, port, err := net.SplitHostPort(value); err == nil {
			if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || host == "" {
				return bad("ssh port %q is not a number in 1..65535", port)
			}
		} else if strings.Contains(value, ":") && !strings.HasPrefix(value, "[") {
			return bad("ssh wants [USER@]HOST[:PORT], got %q", value)
		}
		sp.Addr = value
	default:
		return bad("unknown gateway kind %q (want popen, socket=HOST:PORT, exec=COMMAND or ssh=HOST)", kind)
	}
	seen := map[string]bool{}
	for _, kv := range parts[1:] {
		key, val, ok := strings.Cut(kv, "=")
		if !ok && kv != "tls" {
			return bad("key %q has no value (want KEY=VALUE)", kv)
		}
		if seen[key] {
			return bad("key %q given twice", key)
		}
		seen[key] = true
		switch {
		case key == "id":
			if val == "" || strings.ContainsAny(val, " \t\n*") {
				return bad("bad id %q", val)
			}
			sp.ID = val
		case key == "chdir":
			if val == "" {
				return bad("chdir wants a directory")
			}
			sp.Chdir = val
		case key == "nice":
			n, err := strconv.Atoi(val)
			if err != nil || n < -20 || n > 19 {
				return bad("nice %q is not a number in -20..19", val)
			}
			sp.Nice = n
		case key == "ssh_config":
			if kind != KindSSH {
				return bad("ssh_config is only for ssh= gateways")
			}
			if val == "" {
				return bad("ssh_config wants a file")
			}
			sp.SSHConfig = val
		case key == "token-file" || key == "tls" || key == "tls-ca":
			if kind != KindSocket {
				return bad("%s is only for socket= gateways", key)
			}
			switch {
			case key == "tls" && ok:
				return bad("tls takes no value (use tls-ca=FILE for a CA)")
			case key == "tls":
				sp.TLS = true
			case val == "":
				return bad("%s wants a file", key)
			case key == "token-file":
				sp.TokenFile = val
			default:
				sp.TLSCA = val
			}
		case strings.HasPrefix(key, "env:"):
			name := strings.TrimPrefix(key, "env:")
			if !envName.MatchString(name) {
				return bad("bad environment variable name %q", name)
			}
			if sp.Env == nil {
				sp.Env = map[string]string{}
			}
			sp.Env[name] = val
		default:
			return bad("unknown key %q (want id, chdir, env:NAME, nice, ssh_config, token-file, tls, tls-ca)", key)
		}
	}
	if count > 1 && sp.ID != "" {
		return bad("id %q given for %d gateways: ids must be unique", sp.ID, count)
	}
	out := make([]Spec, count)
	for i := range out {
		out[i] = sp
		out[i].Env = maps.Clone(sp.Env)
	}
	return out, nil
}

// ParseSpecs parses several spec strings (each may carry an N* prefix) and
// concatenates the results.
func ParseSpecs(ss []string) ([]Spec, error) {
	var all []Spec
	var errs []error
	for _, s := range ss {
		sp, err := ParseSpec(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, sp...)
	}
	return all, errors.Join(errs...)
}

// String renders the spec in xspec syntax; ParseSpec(sp.String()) gives sp back
// (apart from Raw).
func (sp Spec) String() string {
	var b strings.Builder
	b.WriteString(sp.Kind)
	switch sp.Kind {
	case KindSocket:
		b.WriteString("=" + sp.Addr)
	case KindExec:
		b.WriteString("=" + sp.Command)
	case KindSSH:
		b.WriteString("=")
		if sp.User != "" {
			b.WriteString(sp.User + "@")
		}
		b.WriteString(sp.Addr)
	}
	if sp.ID != "" {
		b.WriteString("//id=" + sp.ID)
	}
	if sp.Chdir != "" {
		b.WriteString("//chdir=" + sp.Chdir)
	}
	for _, k := range slices.Sorted(maps.Keys(sp.Env)) {
		b.WriteString("//env:" + k + "=" + sp.Env[k])
	}
	if sp.Nice != 0 {
		b.WriteString("//nice=" + strconv.Itoa(sp.Nice))
	}
	if sp.SSHConfig != "" {
		b.WriteString("//ssh_config=" + sp.SSHConfig)
	}
	if sp.TokenFile != "" {
		b.WriteString("//token-file=" + sp.TokenFile)
	}
	if sp.TLS {
		b.WriteString("//tls")
	}
	if sp.TLSCA != "" {
		b.WriteString("//tls-ca=" + sp.TLSCA)
	}
	return b.String()
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
