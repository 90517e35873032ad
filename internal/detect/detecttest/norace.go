//go:build !race

package detecttest

// Race is true when the race detector is on: the checks then do less (one
// cut, one resharding), since every run is several times slower.
const Race = false
