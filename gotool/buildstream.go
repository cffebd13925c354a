package gotool

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/godist/godist/collector"
)

// buildStream is the go command's -json stdout in BuildExec: it keeps all
// of it for the end-of-command accounting and, as each line arrives,
// calls onFail for a package's terminal "fail" event with FailedBuild,
// with the output so far (which holds all that package's build events: go
// prints them before its result; a package can have several, its own and
// its _test package's vet, so a build-fail event is not the end). So a
// build failure is reported when the go command reports it, as go test
// prints it, not when the last package has been built. The go command's stdout copier is its only writer.
type buildStream struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	scanned int
	onFail  func(pkg string, soFar []byte)
}

func (s *buildStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		rest := s.buf.Bytes()[s.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := rest[:i+1]
		s.scanned += i + 1
		if !bytes.Contains(line, []byte(`"FailedBuild"`)) {
			continue
		}
		var e collector.Event
		if json.Unmarshal(line, &e) == nil && e.Action == "fail" && e.Test == "" && e.Package != "" && e.FailedBuild != "" {
			s.onFail(e.Package, bytes.Clone(s.buf.Bytes()[:s.scanned]))
		}
	}
}

// Bytes returns all the output.
func (s *buildStream) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Bytes()
}
