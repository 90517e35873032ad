//go:build race

package main

// raceEnabled: the README examples (slow, not about concurrency) are not
// rerun under the race detector.
const raceEnabled = true
