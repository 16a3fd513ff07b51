//go:build race

package main

// underRace: the test binary runs under the race detector, where every
// process a test starts is about ten times slower.
const underRace = true
