package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godist/godist/internal/redistest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url                 string
		addr, user, pw, run string
		db                  int
		tls                 bool
		redacted            string
	}{
		{url: "redis://localhost/r1", addr: "localhost:6379", run: "r1", redacted: "redis://localhost/r1"},
		{url: "redis://10.0.0.2:7000/gh-123-1", addr: "10.0.0.2:7000", run: "gh-123-1", redacted: "redis://10.0.0.2:7000/gh-123-1"},
		{url: "rediss://h:6380/r", addr: "h:6380", run: "r", tls: true, redacted: "rediss://h:6380/r"},
		{url: "redis://:pw@h/r", addr: "h:6379", pw: "pw", run: "r", redacted: "redis://:xxxxx@h/r"},
		{url: "redis://ci:pw@h/r", addr: "h:6379", user: "ci", pw: "pw", run: "r", redacted: "redis://ci:xxxxx@h/r"},
		{url: "redis://pw@h/r", addr: "h:6379", pw: "pw", run: "r", redacted: "redis://:xxxxx@h/r"},
		{url: "redis://:p%40ss%2Fw@h/r", addr: "h:6379", pw: "p@ss/w", run: "r", redacted: "redis://:xxxxx@h/r"},
		{url: "redis://[::1]:6379/r?db=3", addr: "[::1]:6379", run: "r", db: 3, redacted: "redis://[::1]:6379/r?db=3"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got, err := parseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if got.addr != tc.addr || got.username != tc.user || got.password != tc.pw || got.run != tc.run || got.db != tc.db || got.tls != tc.tls || got.redacted != tc.redacted {
				t.Errorf("parseURL = %+v", got)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range []struct{ url, says string }{
		{"http://h/r", `scheme must be redis or rediss, not "http"`},
		{"redis://h", "no run ID"},
		{"redis://h/", "no run ID"},
		{"redis:///r", "no host"},
		{"redis://h:0/r", `bad port "0"`},
		{"redis://h/a b", "run ID"},
		{"redis://h/a/b", "run ID"},
		{"redis://h/{x}", "run ID"},
		{"redis://h/r?timeout=1", `unknown parameter "timeout"`},
		{"redis://h/r?db=x", `bad db "x"`},
		{"redis:h/r", "no host"},
		{"redis://h/r#f", "fragment"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := parseURL(tc.url)
			if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("parseURL(%q) = %v, want ErrBadURL saying %q", tc.url, err, tc.says)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://h/r":              "redis://h/r",
		"redis://u:secret@h/r":     "redis://u:xxxxx@h/r",
		"redis://secret@h/r":       "redis://:xxxxx@h/r",
		"redis://:sec@ret@h:bad/r": "redis://:xxxxx@h:bad/r",
		"redis://:secret@h b/r":    "redis://:xxxxx@h b/r",
		"no scheme :secret@h":      "no scheme :secret@h",
		"redis://h/r?x=@y":         "redis://h/r?x=@y",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPasswordNeverPrinted opens queues on a server with a password, by
// every route and with every mistake, and looks for the password in
// every error and printed form.
func TestPasswordNeverPrinted(t *testing.T) {
	const secret = "hunter2-S3CRET"
	s := redistest.Start(t, redistest.WithPassword(secret))
	ctx := testCtx(t)
	check := func(what, text string) {
		t.Helper()
		if strings.Contains(text, secret) || strings.Contains(text, "hunter2") || strings.Contains(text, "wrong-pw") {
			t.Errorf("%s shows the password: %s", what, text)
		}
	}
	openErr := func(url string, opts Options) error {
		t.Helper()
		q, err := Open(ctx, url, opts)
		if err == nil {
			q.Close()
			t.Fatalf("Open(%s) succeeded", redactURL(url))
		}
		check("error of Open("+redactURL(url)+")", err.Error())
		check("error chain", fmt.Sprintf("%+v %#v", err, errors.Unwrap(err)))
		return err
	}

	// The right password, in the URL and from the environment.
	q := open(t, s, "pw", testOptions("a"))
	if _, err := q.Register(ctx, "fp", plan(1, 0)); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{q.String(), fmt.Sprint(q), fmt.Sprintf("%v %+v %#v %s", q, q, q, q)} {
		check("String", text)
	}
	if want := "redis://:xxxxx@" + s.Addr + "/pw"; q.String() != want {
		t.Errorf("String = %q, want %q", q.String(), want)
	}
	t.Setenv("TEST_REDIS_PASSWORD", secret)
	envOpts := testOptions("b")
	envOpts.PasswordEnv = "TEST_REDIS_PASSWORD"
	q2, err := Open(ctx, "redis://"+s.Addr+"/pw", envOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	if _, err := q2.Register(ctx, "fp", nil); err != nil {
		t.Fatal(err)
	}
	check("String", q2.String())

	// Mistakes.
	openErr("redis://"+s.Addr+"/pw", testOptions("c")) // no password
	err = openErr("redis://:wrong-pw@"+s.Addr+"/pw", testOptions("c"))
	if !strings.Contains(err.Error(), "connect") {
		t.Errorf("wrong password: %v", err)
	}
	t.Setenv("TEST_REDIS_PASSWORD", "wrong-pw")
	openErr("redis://"+s.Addr+"/pw", envOpts)
	for _, url := range []string{
		"redis://:" + secret + "@127.0.0.1:99999/pw", // bad port
		"redis://:" + secret + "@ho st/pw",           // url.Parse fails
		"redis://:" + secret + "@h%zz/pw",            // bad escape
		"redis://:" + secret + "@h/",                 // no run
		"redis://" + secret + "@h/a b",               // bare password, bad run
		"redis://:" + secret + "@127.0.0.1:1/pw",     // nothing listens
	} {
		openErr(url, testOptions("c"))
	}
	if strings.Contains(s.Log(), secret) {
		t.Errorf("the server logged the password")
	}
}

func TestTLS(t *testing.T) {
	s := redistest.Start(t, redistest.WithTLS(), redistest.WithPassword("tls-pw"))
	ctx := testCtx(t)
	opts := testOptions("a")
	opts.TLSConfig = s.ClientTLS
	q := open(t, s, "tls", opts)
	if !strings.HasPrefix(q.String(), "rediss://:xxxxx@") {
		t.Errorf("String = %q", q.String())
	}
	if _, err := q.Register(ctx, "fp", plan(3, 0)); err != nil {
		t.Fatal(err)
	}
	if done := drain(t, ctx, q, "gw0"); len(done) != 3 {
		t.Errorf("done %v", done)
	}
	// The system roots do not trust the test certificate; plain redis://
	// cannot speak to a TLS port.
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if q, err := Open(short, s.URL("tls"), testOptions("b")); err == nil {
		q.Close()
		t.Error("connected with an untrusted certificate")
	}
	if q, err := Open(short, strings.Replace(s.URL("tls"), "rediss://", "redis://", 1), testOptions("b")); err == nil {
		q.Close()
		t.Error("connected in clear to a TLS port")
	}
}

func TestOptionsRefused(t *testing.T) {
	for name, opts := range map[string]Options{
		"expiry below lease": {LeaseTimeout: time.Minute, Expiry: time.Second},
		"tiny lease":         {LeaseTimeout: time.Millisecond},
		"negative poll":      {PollInterval: -1},
		"job with #":         {Job: "a#b"},
		"job with newline":   {Job: "a\nb"},
	} {
		if _, err := Open(context.Background(), "redis://127.0.0.1:1/r", opts); err == nil || !strings.Contains(err.Error(), "queue redis://127.0.0.1:1/r: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
