//go:build race

package manifest_test

// raceEnabled says the race detector is on; it slows the reader tenfold.
const raceEnabled = true
