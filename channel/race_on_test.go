//go:build race

package channel

// raceEnabled: under the race detector sync.Pool drops a quarter of its
// Puts on purpose, so recycling saves less.
const raceEnabled = true
