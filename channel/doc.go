// Package channel multiplexes many bidirectional channels of msgpack
// values over one byte stream (a pipe, a TCP or ssh connection): the Go
// form of execnet's channels, used by package gateway between a
// controller and its workers. The wire protocol is in PROTOCOL.md.
//
// A Session owns the connection. NewSession exchanges a handshake
// (magic, ProtocolVersion, limits, Config.Hello) and starts two
// goroutines: the reader, the only one reading conn, which decodes frames
// and queues values per channel without ever blocking on a channel; and
// the writer, which writes queued frames, packing small ones into one
// buffer per Write. Writes to conn are serialized by one right to write,
// so frames never interleave: a Send (or a Receive returning window
// credit) that finds nothing queued and the writer idle takes that right
// and writes its frame itself instead of waking the writer; it may then
// block while conn takes no more bytes (only Close ends such a write). A
// channel's callback goroutine (one per channel, started by SetCallback or
// Subscribe) runs its callbacks serially and ends after the channel's end.
// With Config.Keepalive on (and a peer that answers pings), a third
// goroutine pings a quiet peer and fails the session with a
// *KeepaliveError when nothing arrives for the timeout; the reader
// answers the peer's pings.
// Session.Close stops the session at once: it marks it ended, closes conn,
// fails every blocked operation and waits for all those goroutines.
// Session.Shutdown first waits until queued frames are written. Always
// call Close (or Shutdown), even after Done.
//
// Each channel has a credit-based receive window (Config.Window): Send
// blocks while the peer has that many bytes of ours unconsumed, so a fast
// sender cannot grow the receiver's memory and a slow channel never stalls
// the others. Values larger than a frame are split in frames as they are
// encoded; values larger than the window still pass.
//
// Value model (what Receive returns for a sent Go value):
//
//	nil, nil pointer, nil slice/map    -> nil
//	bool                               -> bool
//	int, int8, int16, int32, int64     -> int64
//	uint, uint8, uint16, uint32, uint64 -> uint64
//	float32, float64                   -> float64
//	string                             -> string
//	[]byte, [N]byte                    -> []byte
//	other slices and arrays            -> []any
//	map with string keys (or empty)    -> map[string]any
//	map with other keys                -> map[any]any (keys normalised too)
//	struct (exported fields; msgpack   -> map[string]any keyed by field name
//	  tags for names, "-" and omitempty; embedded structs inlined)
//	time.Time                          -> time.Time (Local, compare with Equal)
//	*Channel                           -> *Channel of the same session
//	pointer, interface                 -> the value pointed to
//	func, chan, complex, unsafe.Pointer, uintptr -> *UnsupportedTypeError at Send
//
// ReceiveInto decodes the same bytes into a typed value with msgpack's
// rules instead.
//
// A received value is the receiver's to keep. A receiver done with a
// received []byte may give it back with Recycle (optional; it must not be
// used after): a later value of about its size is then read into it, so
// a stream of big []byte values allocates nothing per value. ReceiveInto
// with a *[]byte reuses that slice's capacity the same way.
//
// Channels are made by Session.Open (the peer's Accept returns them with
// the request value) or Session.NewChannel (not announced to Accept; meant
// to be sent inside a value, like execnet's gateway.newchannel()).
//
// Close rules: Close sends CLOSE; the peer answers with CLOSE; the channel
// leaves the session once both CLOSEs passed and its queue is read.
// CloseWrite sends LAST_MESSAGE: the peer's Receive returns io.EOF after
// our values, and both sides half-closed means closed. Errors tell who
// ended things: ErrClosed (we closed), io.EOF (the peer closed cleanly),
// *RemoteError (the peer's CloseWithError), and for the session io.EOF /
// io.ErrUnexpectedEOF (peer gone), *ProtocolError (bad bytes),
// *KeepaliveError (the peer went silent: frozen, or the link dropped) or
// *LimitError (the peer made us hold more than a Config limit allows:
// channels, requests, bindings, buffered values, frames to write). A channel
// operation failing because the session ended returns an error matching
// ErrClosed and the session's error, except that a peer which closed the
// connection shows as io.ErrUnexpectedEOF there: io.EOF from Receive always
// means the peer closed that channel cleanly.
package channel
