package channel

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Receive buffers: the reader reads a DATA payload of recvPoolMin bytes or
// more into a buffer of the payload's size class taken from recvPools. A
// payload that is one []byte becomes the value Receive returns (see
// frameReader.next); Recycle gives such a buffer back. Payloads the
// decoder copies out of (fragments of bigger values, ReceiveInto) go back
// by themselves once decoded.
//
// Without recycling, each received 64 KiB []byte is a fresh allocation and
// the GC work it causes, not the copying, bounded 64 KiB throughput on two
// cores (BenchmarkThroughput: channel as fast as "raw-ospipe-alloc").
// With the receiver recycling each value, medians of 6 interleaved runs on
// a 2-core machine, ratio to raw-ospipe in the same run: GOMAXPROCS=2 36%
// -> 77%, GOMAXPROCS=1 73% -> 86%.
//
// Classes are four per doubling (4, 5, 6, 7, 8, 10, 12, 14, 16 KiB, …
// 4 MiB), not powers of two: a payload just over a power of two then takes
// at most 25% more memory than its size, not 100%, whether or not it is
// ever recycled. sync.Pool rather than a free list: idle buffers go away
// with the GC, and the pool is shared by all sessions, which is what lets
// Recycle be a plain function.
const (
	recvPoolMin      = 4 << 10
	recvPoolMax      = 4 << 20
	classesPerOctave = 4
	recvMinShift     = 12 // log2(recvPoolMin)
	recvMaxShift     = 22 // log2(recvPoolMax)
	numRecvClasses   = (recvMaxShift-recvMinShift)*classesPerOctave + 1
)

// The pools hold *byte, the start of a buffer of the class's size: a
// pointer goes into an interface without allocating, unlike a []byte.
var recvPools [numRecvClasses]sync.Pool

// recvClass returns the index and size of the smallest class holding n
// bytes; ok is false outside [recvPoolMin, recvPoolMax].
func recvClass(n int) (i, size int, ok bool) {
	if n < recvPoolMin || n > recvPoolMax {
		return 0, 0, false
	}
	if n == recvPoolMin {
		return 0, n, true
	}
	k := bits.Len(uint(n-1)) - 1 // 1<<k < n <= 1<<(k+1)
	step := 1 << (k - 2)
	q := (n - 1<<k + step - 1) / step // 1..4
	return (k-recvMinShift)*classesPerOctave + q, 1<<k + q*step, true
}

// getRecvBuf returns a buffer of length n, from its class's pool when n
// has a class.
func getRecvBuf(n int) []byte {
	i, size, ok := recvClass(n)
	if !ok {
		return make([]byte, n)
	}
	if p, _ := recvPools[i].Get().(*byte); p != nil {
		return unsafe.Slice(p, size)[:n]
	}
	return make([]byte, n, size)
}

// Recycle gives back a []byte received from a channel (by Receive, a
// callback or ReceiveInto) so that a later received value reuses its
// memory instead of allocating. It is optional: a value not recycled is
// the receiver's to keep, like any other. b must not be used after
// Recycle, neither through b nor through another slice of the same array,
// and must not be recycled twice; recycle only a value nothing else holds
// (not one passed to several subscribers). Only received []byte values of
// 4 KiB to 4 MiB have a reusable buffer; any other slice (an odd capacity,
// a sub-slice, memory not from a channel) is ignored, except that a slice
// whose capacity happens to be a buffer size is taken for reuse like one.
func Recycle(b []byte) {
	c := cap(b)
	i, size, ok := recvClass(c)
	if !ok || size != c {
		return
	}
	recvPools[i].Put(unsafe.SliceData(b))
}

// recycleChunks gives back the payloads of a received value that nothing
// refers to any more (decoded by copying, or dropped).
func recycleChunks(chunks [][]byte) {
	for _, p := range chunks {
		Recycle(p)
	}
}
