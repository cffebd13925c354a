package gateway

import "fmt"

// Version is the godist version carried in the handshake hello.
const Version = "0.1.0-dev"

// RequestVersion is the version of the gateway request vocabulary (the
// values documented in PROTOCOL.md). Controller and worker must agree on it;
// a mismatch fails Open with a *VersionError naming both.
const RequestVersion = 1

// Exec modes, the seed's remote_exec forms.
const (
	ModeAsync   = "async"   // the controller keeps the channel
	ModeSync    = "sync"    // the controller drains the channel and waits for its end
	ModeOneshot = "oneshot" // worker binds "godist.accepted" once compiled, runs after the controller's "godist.go"
)

// Request op names: the "godist" key of every channel open request.
const (
	opExec      = "exec"
	opImport    = "import"
	opInfo      = "info"
	opSetup     = "setup"
	opTerminate = "terminate"
)

// acceptedName is the binding a oneshot execution sets once its code
// compiled; the controller answers with goAheadName, after which the code runs.
const (
	acceptedName = "godist.accepted"
	goAheadName  = "godist.go"
)

// ExecRequest asks the worker to interpret Source with a new interpreter.
type ExecRequest struct {
	Source string
	Mode   string
}

// ImportRequest makes a Go source package available to later executions
// under Path (GOPATH-style); Files maps file names (no directories) to source.
type ImportRequest struct {
	Path  string
	Files map[string]string
}

// SetupRequest applies a spec's keys in the worker process.
type SetupRequest struct {
	ID    string
	Chdir string
	Env   map[string]string
	Nice  int
}

// request is a decoded channel open request.
type request struct {
	op    string
	exec  ExecRequest
	imp   ImportRequest
	setup SetupRequest
}

func (r ExecRequest) wire() map[string]any {
	return map[string]any{"godist": opExec, "source": r.Source, "mode": r.Mode}
}

func (r ImportRequest) wire() map[string]any {
	files := make(map[string]any, len(r.Files))
	for k, v := range r.Files {
		files[k] = v
	}
	return map[string]any{"godist": opImport, "path": r.Path, "files": files}
}

func (r SetupRequest) wire() map[string]any {
	env := make(map[string]any, len(r.Env))
	for k, v := range r.Env {
		env[k] = v
	}
	return map[string]any{"godist": opSetup, "id": r.ID, "chdir": r.Chdir, "env": env, "nice": int64(r.Nice)}
}

func opRequest(op string) map[string]any { return map[string]any{"godist": op} }

// RequestError reports an open request the worker does not understand.
type RequestError struct {
	Reason string
}

func (e *RequestError) Error() string { return "gateway: bad request: " + e.Reason }

// decodeRequest reads a request as sent by the wire methods above. The
// channel layer may hand maps over as map[string]any or map[any]any.
func decodeRequest(v any) (request, error) {
	m, ok := asMap(v)
	if !ok {
		return request{}, &RequestError{Reason: fmt.Sprintf("want a map, got %T", v)}
	}
	op, _ := m["godist"].(string)
	r := request{op: op}
	str := func(k string) string { s, _ := m[k].(string); return s }
	switch op {
	case opExec:
		r.exec = ExecRequest{Source: str("source"), Mode: str("mode")}
		switch r.exec.Mode {
		case ModeAsync, ModeSync, ModeOneshot:
		default:
			return r, &RequestError{Reason: fmt.Sprintf("unknown exec mode %q", r.exec.Mode)}
		}
	case opImport:
		r.imp = ImportRequest{Path: str("path"), Files: map[string]string{}}
		files, _ := asMap(m["files"])
		for k, v := range files {
			s, ok := v.(string)
			if !ok {
				return r, &RequestError{Reason: fmt.Sprintf("import file %q: want a string, got %T", k, v)}
			}
			r.imp.Files[k] = s
		}
	case opSetup:
		n, _ := asInt(m["nice"])
		r.setup = SetupRequest{ID: str("id"), Chdir: str("chdir"), Nice: int(n), Env: map[string]string{}}
		env, _ := asMap(m["env"])
		for k, v := range env {
			s, _ := v.(string)
			r.setup.Env[k] = s
		}
	case opInfo, opTerminate:
	default:
		return r, &RequestError{Reason: fmt.Sprintf("unknown op %q", op)}
	}
	return r, nil
}

// asMap normalises the map shapes a decoder may produce.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			out[ks] = v
		}
		return out, true
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out, true
	}
	return nil, false
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

// Info describes a worker process, as returned by Gateway.Info and by
// godist.Info() in remote code.
type Info struct {
	GOOS, GOARCH      string
	NumCPU            int
	PID               int
	Cwd               string
	Hostname          string
	Version           string // godist version of the worker
	GoVersion         string // runtime.Version() of the worker
	RequestVersion    int
	OpenChannels      int // open channels on this gateway's connection
	RunningExecutions int // executions running on this gateway's connection
}

func (in Info) wire() map[string]any {
	return map[string]any{
		"goos": in.GOOS, "goarch": in.GOARCH, "numcpu": int64(in.NumCPU), "pid": int64(in.PID),
		"cwd": in.Cwd, "hostname": in.Hostname, "version": in.Version, "goversion": in.GoVersion,
		"requestversion": int64(in.RequestVersion), "openchannels": int64(in.OpenChannels),
		"runningexecutions": int64(in.RunningExecutions),
	}
}

func decodeInfo(v any) (Info, error) {
	m, ok := asMap(v)
	if !ok {
		return Info{}, fmt.Errorf("decode info: want a map, got %T", v)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) int { n, _ := asInt(m[k]); return int(n) }
	return Info{
		GOOS: str("goos"), GOARCH: str("goarch"), NumCPU: num("numcpu"), PID: num("pid"),
		Cwd: str("cwd"), Hostname: str("hostname"), Version: str("version"), GoVersion: str("goversion"),
		RequestVersion: num("requestversion"), OpenChannels: num("openchannels"),
		RunningExecutions: num("runningexecutions"),
	}, nil
}

// hello is the value both sides put into the channel handshake.
func hello(role string) map[string]any {
	return map[string]any{"godist": Version, "requests": int64(RequestVersion), "role": role}
}

// VersionError reports a peer speaking another gateway request version.
type VersionError struct {
	Local, Remote         int
	LocalBuild, PeerBuild string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("request version mismatch: we speak %d (godist %s), peer speaks %d (godist %s)",
		e.Local, e.LocalBuild, e.Remote, e.PeerBuild)
}

// checkHello validates the peer's hello.
func checkHello(v any) error {
	m, ok := asMap(v)
	if !ok {
		return &VersionError{Local: RequestVersion, LocalBuild: Version, Remote: -1, PeerBuild: fmt.Sprintf("unknown (hello %T)", v)}
	}
	n, _ := asInt(m["requests"])
	build, _ := m["godist"].(string)
	if int(n) != RequestVersion {
		return &VersionError{Local: RequestVersion, LocalBuild: Version, Remote: int(n), PeerBuild: build}
	}
	return nil
}
