package collector

import "time"

// Event is one line of `go test -json` output. Field order and omitempty
// rules match cmd/internal/test2json and cmd/go's build events, so that a
// marshaled Event is byte-compatible with what go test prints.
//
// Build events (Action build-output / build-fail) carry ImportPath and no
// Time or Package; test events carry Time, Action, Package and the rest.
type Event struct {
	ImportPath  string     `json:",omitempty"`
	Time        *time.Time `json:",omitempty"`
	Action      string
	Package     string   `json:",omitempty"`
	Test        string   `json:",omitempty"`
	Elapsed     *float64 `json:",omitempty"`
	Output      string   `json:",omitempty"`
	FailedBuild string   `json:",omitempty"`
	Key         string   `json:",omitempty"`
	Value       string   `json:",omitempty"`
	Path        string   `json:",omitempty"`
}

// IsPackageEnd reports whether e is a package's terminal event.
func (e Event) IsPackageEnd() bool {
	return e.Test == "" && e.Package != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip")
}
