//go:build race

package main

// raceEnabled: this test binary has the race detector, so the godist the
// end-to-end tests run is built with it too.
const raceEnabled = true
