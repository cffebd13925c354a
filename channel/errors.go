package channel

import (
	"errors"
	"fmt"
	"reflect"
)

// ErrClosed reports an operation on a channel or session that was closed
// (by us, or by the peer for Send), or that the session was closed by us.
var ErrClosed = errors.New("channel: closed")

// ErrTimeout is wrapped by errors of blocking operations whose context
// deadline passed; such errors also match context.DeadlineExceeded.
var ErrTimeout = errors.New("channel: timeout")

// ErrCallbackSet is returned by Receive-like calls once items are consumed
// by a callback (SetCallback, or Subscribe with an item callback).
var ErrCallbackSet = errors.New("channel: items are consumed by a callback")

// ProtocolError ends a session whose peer sent bytes that break the protocol.
type ProtocolError struct {
	Msg string // what was wrong, untrusted bytes quoted
}

func (e *ProtocolError) Error() string { return "channel: protocol error: " + e.Msg }

func protoErrorf(format string, args ...any) *ProtocolError {
	return &ProtocolError{Msg: fmt.Sprintf(format, args...)}
}

// VersionError is returned by NewSession when the peer speaks another
// protocol version.
type VersionError struct {
	Local, Remote int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("channel: protocol version mismatch: local %d, remote %d", e.Local, e.Remote)
}

// UnsupportedTypeError is returned by Send (and Set, Open) before anything
// is written when the value holds a type the value model cannot carry.
type UnsupportedTypeError struct {
	Type reflect.Type
	Path string // where in the value, e.g. "[2].Field" ("" for the value itself)
}

func (e *UnsupportedTypeError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("channel: unsupported type %s", e.Type)
	}
	return fmt.Sprintf("channel: unsupported type %s at %s", e.Type, e.Path)
}

// RemoteError is what the peer's CloseWithError delivers: Receive, Wait and
// the end callback return it.
type RemoteError struct {
	Message string
	Where   string
	Stack   string
}

func (e *RemoteError) Error() string {
	if e.Where != "" {
		return "remote error: " + e.Message + " (at " + e.Where + ")"
	}
	return "remote error: " + e.Message
}
