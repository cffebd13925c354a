package workers

import "time"

// wireRequest is every message from the controller to a worker's Serve.
type wireRequest struct {
	Op        string        `msgpack:"op"` // run, kill, bundle, file, done, abort
	Argv      []string      `msgpack:"argv,omitempty"`
	Dir       string        `msgpack:"dir,omitempty"`
	Env       []string      `msgpack:"env,omitempty"`
	Deadline  time.Duration `msgpack:"deadline,omitempty"`
	WaitDelay time.Duration `msgpack:"waitdelay,omitempty"`
	QuitGrace time.Duration `msgpack:"quitgrace,omitempty"`
	Sig       string        `msgpack:"sig,omitempty"`
	Hash      string        `msgpack:"hash,omitempty"`
	File      string        `msgpack:"file,omitempty"`
	Data      []byte        `msgpack:"data,omitempty"`
	Mode      uint32        `msgpack:"mode,omitempty"`
	Isolate   bool          `msgpack:"isolate,omitempty"`
	Guard     bool          `msgpack:"guard,omitempty"`
}

// wireEvent is every message from a worker's Serve to the controller.
type wireEvent struct {
	Out []byte `msgpack:"out,omitempty"` // process output

	End          bool   `msgpack:"end,omitempty"` // the process ended:
	Exit         int    `msgpack:"exit,omitempty"`
	Signal       string `msgpack:"signal,omitempty"`
	IOIncomplete bool   `msgpack:"ioincomplete,omitempty"`
	TimedOut     bool   `msgpack:"timedout,omitempty"`
	Isolation    string `msgpack:"isolation,omitempty"`
	ParentKilled bool   `msgpack:"parentkilled,omitempty"`

	Have bool   `msgpack:"have,omitempty"` // bundle replies
	Dir  string `msgpack:"dir,omitempty"`

	Err string `msgpack:"err,omitempty"` // the request failed
}

const (
	opRun    = "run"
	opKill   = "kill"
	opBundle = "bundle"
	opFile   = "file"
	opDone   = "done"
	opAbort  = "abort"
)
