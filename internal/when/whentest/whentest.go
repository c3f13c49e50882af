// Package whentest puts a test in the appliance's surroundings: no TZ, so
// the process's Local zone is UTC, whatever the machine running the test.
package whentest

import (
	"testing"
	"time"
)

// LocalUTC makes the process's Local zone UTC until t ends, as on the
// appliance. It marks t as not parallel (it changes the whole process).
func LocalUTC(t testing.TB) {
	t.Helper()
	t.Setenv("TZ", "") // refuses a parallel test; children see TZ="", which Go reads as UTC
	old := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = old })
}
