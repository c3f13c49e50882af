package drivetest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The fakes keep the contract: a plain drive, a spooled one (Flusher,
// Ejecter), a locked one behind a switch and one without a switch
// (ImmutabilityProver).
func TestFakeDrivesKeepTheContract(t *testing.T) {
	for name, k := range map[string]kind{"plain": plain, "spooled": spooled, "locked": locked, "locked-no-switch": lockedUnswitch} {
		t.Run(name, func(t *testing.T) { fakeSuite(k, bugs{}).Run(t) })
	}
}

// Each check catches the broken drive it is there for: a suite that
// passes everything would prove nothing.
func TestSuiteCatchesBrokenDrives(t *testing.T) {
	cases := []struct {
		name  string
		kind  kind
		bugs  bugs
		check func(Suite) func(testing.TB)
	}{
		{"WaitGone without looking, device powered", plain, bugs{goneAtOnce: true}, func(s Suite) func(testing.TB) { return s.checkWaitGoneWhilePowered }},
		{"WaitGone without looking, device stuck", plain, bugs{goneAtOnce: true}, func(s Suite) func(testing.TB) { return s.checkNeverGoes }},
		{"a device that was already there", plain, bugs{goneAtOnce: true, takesPresentOK: true}, func(s Suite) func(testing.TB) { return s.checkAlreadyThere }},
		{"any medium taken", plain, bugs{anyMedium: true}, func(s Suite) func(testing.TB) { return s.checkWrongMedium }},
		{"Attach that waits for ever", plain, bugs{appearForEver: true}, func(s Suite) func(testing.TB) { return s.checkNeverAppears }},
		{"Explain drops the failure", plain, bugs{explainLoses: true}, func(s Suite) func(testing.TB) { return s.checkSession }},
		{"Flush copies nothing", spooled, bugs{flushNothing: true}, func(s Suite) func(testing.TB) { return s.checkSession }},
		{"never ejected", spooled, bugs{neverEjected: true}, func(s Suite) func(testing.TB) { return s.checkSession }},
		{"immutable before proof", locked, bugs{provenAlways: true}, func(s Suite) func(testing.TB) { return s.checkSession }},
		{"immutable though refused", lockedUnswitch, bugs{provenAlways: true}, func(s Suite) func(testing.TB) { return s.checkWrongMedium }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCheck(t, c.check(fakeSuite(c.kind, c.bugs)))
			if r.skipped {
				t.Fatalf("the check was skipped: %s", r.text())
			}
			if !r.failed {
				t.Fatal("the check passed a broken drive")
			}
			t.Logf("caught: %s", r.text())
		})
	}
}

// A drive without a switch that cannot prove immutability can never be
// offline: the suite says so.
func TestSuiteRequiresImmutabilityWithoutSwitch(t *testing.T) {
	s := fakeSuite(plain, bugs{})
	inner := s.New
	s.New = func(t testing.TB, f Fault) Rig {
		r := inner(t, f)
		r.Target.Switch = nil
		d := r.Target.Drive.(*fakeDrive)
		d.always = true
		d.m.set(true)
		return r
	}
	r := runCheck(t, s.checkSession)
	if !r.failed || !strings.Contains(r.text(), "ImmutabilityProver") {
		t.Fatalf("a switchless drive without immutability passed: %s", r.text())
	}
}

// recorder is a testing.TB that notes failures and skips instead of
// passing them on, so a check can be shown to catch a broken drive.
// Everything else (TempDir, Cleanup, Log) goes to the real test.
type recorder struct {
	testing.TB
	mu      sync.Mutex
	failed  bool
	skipped bool
	lines   []string
}

// runCheck runs check against a recorder, in its own goroutine as
// FailNow and SkipNow end it with runtime.Goexit.
func runCheck(t *testing.T, check func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r
}

func (r *recorder) note(failed, skipped bool, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || failed
	r.skipped = r.skipped || skipped
	if s != "" {
		r.lines = append(r.lines, s)
	}
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "; ")
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fail()                          { r.note(true, false, "") }
func (r *recorder) Failed() bool                   { r.mu.Lock(); defer r.mu.Unlock(); return r.failed }
func (r *recorder) Error(args ...any)              { r.note(true, false, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, a ...any) { r.note(true, false, fmt.Sprintf(format, a...)) }
func (r *recorder) FailNow()                       { r.Fail(); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)              { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, a ...any) { r.Errorf(format, a...); runtime.Goexit() }
func (r *recorder) SkipNow()                       { r.note(false, true, ""); runtime.Goexit() }
func (r *recorder) Skip(args ...any)               { r.note(false, true, fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Skipf(format string, a ...any) {
	r.note(false, true, fmt.Sprintf(format, a...))
	runtime.Goexit()
}
func (r *recorder) Skipped() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.skipped }
