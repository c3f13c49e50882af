// Package drivetest is the contract every backup.Drive keeps, as one suite
// that each kind of drive runs (in the manner of restic's
// internal/backend/test). A factory sets up a medium with its power
// switch on hardware that can be made to misbehave; the suite checks that
// a session works in the order backup.Cycle drives it, that the
// repository location Attach returns holds what is written until a later
// session reads it back, that the cut is proven only once the device is
// really gone, and that each optional capability (backup.Flusher,
// Ejecter, ImmutabilityProver, Explainer) behaves.
package drivetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
)

// Fault is a way a medium's hardware misbehaves.
type Fault int

const (
	// Healthy: the device comes with the power and goes with it.
	Healthy Fault = iota
	// NeverAppears: power-on brings nothing up (a dead disk, a loose
	// cable, a line that stays down).
	NeverAppears
	// NeverGoes: the device comes with the power but stays after the cut
	// (a welded contact, a second line nobody cut).
	NeverGoes
	// WrongMedium: another medium answers (another disk, another
	// medium's tape, a bucket without the required lock).
	WrongMedium
	// AlreadyThere: the device is present before power-on and the switch
	// does not power it at all.
	AlreadyThere
)

func (f Fault) String() string {
	switch f {
	case Healthy:
		return "healthy"
	case NeverAppears:
		return "never-appears"
	case NeverGoes:
		return "never-goes"
	case WrongMedium:
		return "wrong-medium"
	case AlreadyThere:
		return "already-there"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Rig is one medium under test, on hardware set up with one fault.
type Rig struct {
	// Target is the medium as a session sees it: Switch (nil for a
	// medium without one), Drive for a session that writes, and Repo.
	// With Repo.Binary set the suite writes and reads back a restic
	// snapshot (initialising the repository if there is none); without
	// it, a plain file at the location.
	Target backup.Target
	// Reader makes the drive of a later session that reads back what the
	// first one wrote (a restore). Nil: Target.Drive is used again.
	Reader func() (backup.Drive, error)
	// Detached, if set, reports what still makes the medium unsafe to cut
	// after Detach (a mounted filesystem, …).
	Detached func() error
	// Untouched, if set, reports what a drive wrote to the wrong medium
	// (checked after the WrongMedium session).
	Untouched func() error
}

// Suite is the contract run for one kind of drive.
type Suite struct {
	// New sets up a medium whose hardware has fault f, powered off. It is
	// called once per check; t's cleanups tear the medium down.
	New func(t testing.TB, f Fault) Rig
	// Faults lists the faults New can model besides Healthy; the checks
	// of the others are skipped.
	Faults []Fault
	// Timeout bounds every wait that must end: an appearance that never
	// comes, a device that never goes. The drive's own timeouts must be
	// shorter. Zero: a minute.
	Timeout time.Duration
}

// Run runs every check of the contract as a subtest of t.
func (s Suite) Run(t *testing.T) {
	for _, c := range s.checks() {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

type check struct {
	name string
	run  func(t testing.TB)
}

// checks is the contract, in the order Run runs it.
func (s Suite) checks() []check {
	return []check{
		{"Session", s.checkSession},
		{"WaitGoneWhilePowered", s.checkWaitGoneWhilePowered},
		{"NeverAppears", s.checkNeverAppears},
		{"NeverGoes", s.checkNeverGoes},
		{"WrongMedium", s.checkWrongMedium},
		{"AlreadyThere", s.checkAlreadyThere},
	}
}

func (s Suite) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return time.Minute
}

// rig sets up a medium with fault f, or skips the check when the suite
// cannot model f.
func (s Suite) rig(t testing.TB, f Fault) Rig {
	t.Helper()
	if f != Healthy && !s.models(f) {
		t.Skipf("this medium's rig cannot model the %s fault", f)
	}
	return s.New(t, f)
}

// start sets up a medium with fault f for a check and returns it, a
// context for the check and the drive of its first session. A check that
// needs a switch is skipped for a medium without one.
func (s Suite) start(t testing.TB, f Fault, needSwitch bool) (Rig, context.Context, backup.Drive) {
	t.Helper()
	r := s.rig(t, f)
	if needSwitch && r.Target.Switch == nil {
		t.Skip("the medium has no switch: nothing is powered or cut")
	}
	return r, s.ctx(t), r.Target.Drive
}

func (s Suite) models(f Fault) bool {
	for _, m := range s.Faults {
		if m == f {
			return true
		}
	}
	return false
}

// ctx is a context for one check: long enough for restic, bounded so a
// drive that hangs fails the check instead of the whole test binary.
func (s Suite) ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+4*s.timeout())
	t.Cleanup(cancel)
	return ctx
}

// within runs op, which must end within the suite's timeout.
func (s Suite) within(t testing.TB, ctx context.Context, what string, op func(context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*s.timeout())
	defer cancel()
	start := time.Now()
	err := op(ctx)
	if took := time.Since(start); took > s.timeout() {
		t.Errorf("%s took %s, more than the suite's %s", what, took.Round(time.Millisecond), s.timeout())
	}
	return err
}

// must fails the check at once when err is set.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// powerOn, powerOff switch the medium, if it has a switch.
func powerOn(t testing.TB, ctx context.Context, r Rig) {
	t.Helper()
	if sw := r.Target.Switch; sw != nil {
		_, err := sw.On(ctx)
		must(t, "power on", err)
	}
}

func powerOff(t testing.TB, ctx context.Context, r Rig) {
	t.Helper()
	if sw := r.Target.Switch; sw != nil {
		_, err := sw.Off(ctx)
		must(t, "power off", err)
	}
}
