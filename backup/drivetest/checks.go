package drivetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
)

// checkSession: a healthy medium goes through a session that writes and a
// later one that reads it back, each in backup.Cycle's order, with every
// capability the drive has behaving on the way.
func (s Suite) checkSession(t testing.TB) {
	r := s.rig(t, Healthy)
	ctx := s.ctx(t)
	p := newPayload(t)
	s.session(t, ctx, r, r.Target.Drive, func(loc string) { p.write(t, ctx, r.Target.Repo, loc) })
	reader := r.Target.Drive
	if r.Reader != nil {
		var err error
		reader, err = r.Reader()
		must(t, "make the drive that reads back", err)
	}
	s.session(t, ctx, r, reader, func(loc string) { p.read(t, ctx, r.Target.Repo, loc) })
}

// checkWaitGoneWhilePowered: WaitGone fails, within the timeout, while the
// device is still powered, also when its context ends first; it succeeds
// once the power is cut.
func (s Suite) checkWaitGoneWhilePowered(t testing.TB) {
	r, ctx, d := s.start(t, Healthy, true)
	s.attach(t, ctx, r, d)
	s.detach(t, ctx, r, d)
	if err := s.within(t, ctx, "WaitGone with the power on", d.WaitGone); err == nil {
		t.Error("WaitGone returned nil while the device is powered: a cut would be proven that never happened")
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := s.within(t, short, "WaitGone whose context ends", d.WaitGone); err == nil {
		t.Error("WaitGone returned nil when its context ended with the device still there")
	}
	s.cut(t, ctx, r, d)
}

// checkNeverAppears: when nothing comes up, Attach fails within the
// timeout, nothing is proven, and the cut still works.
func (s Suite) checkNeverAppears(t testing.TB) {
	r, ctx, d := s.start(t, NeverAppears, true)
	s.refusedSession(t, ctx, r, d, "nothing appeared")
}

// checkNeverGoes: a device that stays after the cut is never proven gone.
func (s Suite) checkNeverGoes(t testing.TB) {
	r, ctx, d := s.start(t, NeverGoes, true)
	s.attach(t, ctx, r, d)
	s.detach(t, ctx, r, d)
	powerOff(t, ctx, r)
	if err := s.within(t, ctx, "WaitGone with the device still there", d.WaitGone); err == nil {
		t.Error("WaitGone returned nil although the device is still there after the cut")
	}
}

// checkWrongMedium: another medium is refused at Attach, nothing is
// written to it and nothing is proven; it is cut like the right one.
func (s Suite) checkWrongMedium(t testing.TB) {
	r, ctx, d := s.start(t, WrongMedium, false)
	s.refusedSession(t, ctx, r, d, "the wrong medium answered")
	if r.Untouched != nil {
		must(t, "the wrong medium", r.Untouched())
	}
}

// checkAlreadyThere: a device present before power-on, which the switch
// does not power, is refused before the power goes on or is never proven
// gone: the switch cannot be shown to cut it.
func (s Suite) checkAlreadyThere(t testing.TB) {
	r, ctx, d := s.start(t, AlreadyThere, true)
	if err := d.BeforePowerOn(); err != nil {
		return // refused before the power went on
	}
	powerOn(t, ctx, r)
	if err := s.within(t, ctx, "Attach", func(ctx context.Context) error { _, err := d.Attach(ctx); return err }); err == nil {
		must(t, "Detach", d.Detach(ctx))
	}
	powerOff(t, ctx, r)
	if err := s.within(t, ctx, "WaitGone", d.WaitGone); err == nil {
		t.Error("a device the switch does not power was accepted and then proven gone")
	}
}

// session runs one session of d as backup.Cycle's Session does, with use
// working on the repository location in the middle.
func (s Suite) session(t testing.TB, ctx context.Context, r Rig, d backup.Drive, use func(loc string)) {
	t.Helper()
	loc := s.attach(t, ctx, r, d)
	use(loc)
	explains(t, d)
	if fl, ok := d.(backup.Flusher); ok {
		must(t, "Flush", fl.Flush(ctx))
	}
	s.detach(t, ctx, r, d)
	if ej, ok := d.(backup.Ejecter); ok && !ej.Ejected() {
		t.Error("Ejected is false after Detach")
	}
	s.cut(t, ctx, r, d)
	if imm, ok := d.(backup.ImmutabilityProver); ok {
		must(t, "Immutable after the cut (the session's proof stands)", imm.Immutable())
	}
}

// attach runs a session up to a successful Attach and returns the
// repository location.
func (s Suite) attach(t testing.TB, ctx context.Context, r Rig, d backup.Drive) string {
	t.Helper()
	must(t, "BeforePowerOn", d.BeforePowerOn())
	nothingProvenYet(t, d)
	powerOn(t, ctx, r)
	var loc string
	err := s.within(t, ctx, "Attach", func(ctx context.Context) error {
		var err error
		loc, err = d.Attach(ctx)
		return err
	})
	must(t, "Attach", err)
	if loc == "" {
		t.Fatal("Attach returned no repository location")
	}
	if imm, ok := d.(backup.ImmutabilityProver); ok {
		must(t, "Immutable after a good Attach", imm.Immutable())
	}
	return loc
}

// refusedSession runs a session whose Attach must fail (why says why),
// then detaches and cuts as backup.Cycle does.
func (s Suite) refusedSession(t testing.TB, ctx context.Context, r Rig, d backup.Drive, why string) {
	t.Helper()
	must(t, "BeforePowerOn", d.BeforePowerOn())
	powerOn(t, ctx, r)
	s.attachFails(t, ctx, d, why)
	must(t, "Detach after a failed Attach", d.Detach(ctx))
	s.cut(t, ctx, r, d)
}

// attachFails requires Attach to fail within the timeout, proving nothing.
func (s Suite) attachFails(t testing.TB, ctx context.Context, d backup.Drive, why string) {
	t.Helper()
	err := s.within(t, ctx, "Attach", func(ctx context.Context) error {
		loc, err := d.Attach(ctx)
		if err == nil {
			t.Errorf("Attach returned %q although %s", loc, why)
		}
		return err
	})
	if err == nil {
		return
	}
	if imm, ok := d.(backup.ImmutabilityProver); ok && imm.Immutable() == nil {
		t.Errorf("Immutable is nil after Attach failed (%v)", err)
	}
}

// detach: Detach makes the medium safe to cut, and a second Detach does
// no harm (a retry after an error).
func (s Suite) detach(t testing.TB, ctx context.Context, r Rig, d backup.Drive) {
	t.Helper()
	must(t, "Detach", d.Detach(ctx))
	must(t, "Detach a second time", d.Detach(ctx))
	if r.Detached != nil {
		must(t, "after Detach", r.Detached())
	}
}

// cut powers the medium off and requires it gone within the timeout. A
// medium without a switch is offline only by immutability.
func (s Suite) cut(t testing.TB, ctx context.Context, r Rig, d backup.Drive) {
	t.Helper()
	if r.Target.Switch == nil {
		if _, ok := d.(backup.ImmutabilityProver); !ok {
			t.Error("the medium has no switch, so it can only be offline by immutability, but its drive is no backup.ImmutabilityProver")
		}
		return
	}
	powerOff(t, ctx, r)
	must(t, "WaitGone after the cut", s.within(t, ctx, "WaitGone after the cut", d.WaitGone))
}

// nothingProvenYet: right after BeforePowerOn, no cartridge was ejected
// and no immutability proven in this session.
func nothingProvenYet(t testing.TB, d backup.Drive) {
	t.Helper()
	if ej, ok := d.(backup.Ejecter); ok && ej.Ejected() {
		t.Error("Ejected is true before this session ejected anything")
	}
	if imm, ok := d.(backup.ImmutabilityProver); ok && imm.Immutable() == nil {
		t.Error("Immutable is nil before this session proved anything")
	}
}

// explains: an Explainer keeps the failure it explains (errors.Is) and
// turns no failure into none.
func explains(t testing.TB, d backup.Drive) {
	t.Helper()
	ex, ok := d.(backup.Explainer)
	if !ok {
		return
	}
	if err := ex.Explain(nil); err != nil {
		t.Errorf("Explain(nil) = %v, want nil", err)
	}
	probe := errors.New("drivetest: a failure while the medium was attached")
	if err := ex.Explain(probe); !errors.Is(err, probe) {
		t.Errorf("Explain lost the failure it explains: %v", err)
	}
}
