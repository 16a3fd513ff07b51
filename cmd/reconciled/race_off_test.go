//go:build !race

package main

// underRace: the test binary runs under the race detector (race_on_test.go).
const underRace = false
