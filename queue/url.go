package queue

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ErrBadURL is wrapped by every error Open returns for a URL it cannot
// use. The URL in such errors is redacted.
var ErrBadURL = errors.New("bad queue URL")

// target is a parsed queue URL. The password is kept apart so that nothing
// that prints a target can print it.
type target struct {
	tls      bool
	addr     string // host:port
	host     string // for TLS server name checks
	username string
	password string
	db       int
	run      string
	redacted string
}

// runIDPattern is what a run ID may be: it becomes part of every key name
// and of log lines, so no spaces, braces (the key hash tag) or control
// characters.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:@+=-]{1,200}$`)

// parseURL parses redis://[[USER]:PASSWORD@]HOST[:PORT]/RUN[?db=N] (or
// rediss:// for TLS).
func parseURL(raw string) (target, error) {
	red := redactURL(raw)
	bad := func(format string, args ...any) (target, error) {
		return target{}, fmt.Errorf("queue: %w %q: %s", ErrBadURL, red, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the whole URL, password included: say only
		// what kind of error it was.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bad("%s", redactErr(err.Error(), raw))
	}
	var t target
	switch u.Scheme {
	case "redis":
	case "rediss":
		t.tls = true
	default:
		return bad("scheme must be redis or rediss, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("no host (want redis://HOST:PORT/RUN)")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return bad("no host (want redis://HOST:PORT/RUN)")
	}
	if port == "" {
		port = "6379"
	} else if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return bad("bad port %q", port)
	}
	t.host = host
	t.addr = net.JoinHostPort(host, port)
	if u.User != nil {
		t.username = u.User.Username()
		t.password, _ = u.User.Password()
		if _, hasPassword := u.User.Password(); !hasPassword {
			// redis://SECRET@host is how redis-cli and go-redis accept a
			// bare password: a user name alone means nothing to AUTH.
			t.username, t.password = "", u.User.Username()
		}
	}
	run := strings.TrimPrefix(u.Path, "/")
	if run == "" {
		return bad("no run ID in the path (want redis://HOST:PORT/RUN)")
	}
	if !runIDPattern.MatchString(run) {
		return bad("run ID %q may have only letters, digits and . _ : @ + = - (at most 200)", run)
	}
	t.run = run
	for k, v := range u.Query() {
		switch k {
		case "db":
			n, err := strconv.Atoi(v[len(v)-1])
			if err != nil || n < 0 {
				return bad("bad db %q", v[len(v)-1])
			}
			t.db = n
		default:
			return bad("unknown parameter %q (known: db)", k)
		}
	}
	if u.Fragment != "" {
		return bad("unexpected fragment")
	}
	t.redacted = red
	return t, nil
}

// userinfo splits raw around its userinfo as written (still escaped);
// ok is false when it has none.
func userinfo(raw string) (before, info, after string, ok bool) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", "", "", false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return "", "", "", false
	}
	return scheme + "://", rest[:at], rest[at:], true
}

// redactURL replaces the password in a URL (or what looks like its
// userinfo, when the URL does not parse) with xxxxx, as url.URL.Redacted
// does; a bare redis://SECRET@host is redacted whole.
func redactURL(raw string) string {
	before, info, after, ok := userinfo(raw)
	if !ok {
		return raw
	}
	user, _, hasPassword := strings.Cut(info, ":")
	if !hasPassword {
		user = ""
	}
	return before + user + ":xxxxx" + after
}

// redactErr removes the password of raw from msg, escaped or not, in
// case a lower layer quoted it.
func redactErr(msg, raw string) string {
	_, info, _, ok := userinfo(raw)
	if !ok {
		return msg
	}
	secret := info
	if _, pw, ok := strings.Cut(info, ":"); ok {
		secret = pw
	}
	if secret == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, secret, "xxxxx")
	if plain, err := url.PathUnescape(secret); err == nil && plain != "" {
		msg = strings.ReplaceAll(msg, plain, "xxxxx")
	}
	return msg
}
