package drivetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
)

// medium is a fake medium behind a fake switch: a directory that is there
// while it has power, misbehaving as its fault says.
type medium struct {
	dir string // its contents
	id  string // what it says it is

	mu      sync.Mutex
	fault   Fault
	powered bool
	wasOn   bool
}

func (m *medium) present() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.fault {
	case NeverAppears:
		return false
	case NeverGoes:
		return m.powered || m.wasOn
	case AlreadyThere:
		return true
	}
	return m.powered
}

func (m *medium) set(on bool) relay.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.powered = on
	m.wasOn = m.wasOn || on
	state := relay.Off
	if on {
		state = relay.On
	}
	return relay.Result{Relay: "fake", Want: state, Sense: state, Verified: true, Time: time.Now()}
}

// fakeSwitch is the medium's relay.
type fakeSwitch struct{ m *medium }

var _ backup.Switch = fakeSwitch{}

func (s fakeSwitch) Name() string                              { return "fake" }
func (s fakeSwitch) On(context.Context) (relay.Result, error)  { return s.m.set(true), nil }
func (s fakeSwitch) Off(context.Context) (relay.Result, error) { return s.m.set(false), nil }

// bugs break a fake drive on purpose, to show the suite catches each.
type bugs struct {
	goneAtOnce     bool // WaitGone returns nil without looking
	anyMedium      bool // Attach takes whatever medium answers
	flushNothing   bool // Flush copies nothing
	neverEjected   bool // Ejected stays false
	provenAlways   bool // Immutable is always nil
	explainLoses   bool // Explain drops the failure it explains
	appearForEver  bool // Attach waits for ever for a medium that never comes
	takesPresentOK bool // BeforePowerOn accepts a device that is already there
}

// fakeDrive is a backup.Drive for a medium: it waits for it to be there,
// checks what it says it is, and works on its directory while attached.
type fakeDrive struct {
	m        *medium
	always   bool // a medium without a switch: it is there before power-on
	want     string
	wait     time.Duration // appear and gone timeout
	bugs     bugs
	attached bool
}

var (
	_ backup.Drive     = (*fakeDrive)(nil)
	_ backup.Explainer = (*fakeDrive)(nil)
)

func (d *fakeDrive) BeforePowerOn() error {
	if d.m.present() && !d.always && !d.bugs.takesPresentOK {
		return errors.New("fake: the medium is there before power-on")
	}
	return nil
}

func (d *fakeDrive) Attach(ctx context.Context) (string, error) {
	if err := d.until(ctx, true); err != nil {
		return "", err
	}
	if d.m.id != d.want && !d.bugs.anyMedium {
		return "", fmt.Errorf("fake: medium %q answered, want %q", d.m.id, d.want)
	}
	d.attached = true
	return d.m.dir, nil
}

func (d *fakeDrive) Detach(context.Context) error {
	d.attached = false
	return nil
}

func (d *fakeDrive) WaitGone(ctx context.Context) error {
	if d.bugs.goneAtOnce {
		return nil
	}
	return d.until(ctx, false)
}

// until waits, at most d.wait, for the medium to be there (or gone).
func (d *fakeDrive) until(ctx context.Context, present bool) error {
	limit := d.wait
	if d.bugs.appearForEver && present {
		limit = time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for d.m.present() != present {
		select {
		case <-ctx.Done():
			return fmt.Errorf("fake: the medium is not %s: %w", map[bool]string{true: "there", false: "gone"}[present], ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (d *fakeDrive) Explain(err error) error {
	if err == nil {
		return nil
	}
	if d.bugs.explainLoses {
		return errors.New("fake: something failed")
	}
	return msg.Wrap(err, "偽の媒体", "fake medium")
}

// spoolDrive is a fake tape: a backup works on a spool directory that
// Flush copies to the medium, Detach ejects, and a restore reads the
// medium itself.
type spoolDrive struct {
	*fakeDrive
	spool   string
	restore bool
	ejected bool
}

var (
	_ backup.Flusher = (*spoolDrive)(nil)
	_ backup.Ejecter = (*spoolDrive)(nil)
)

func (d *spoolDrive) BeforePowerOn() error {
	d.ejected = false
	return d.fakeDrive.BeforePowerOn()
}

func (d *spoolDrive) Attach(ctx context.Context) (string, error) {
	loc, err := d.fakeDrive.Attach(ctx)
	if err != nil || d.restore {
		return loc, err
	}
	return d.spool, nil
}

func (d *spoolDrive) Flush(context.Context) error {
	if d.restore || d.bugs.flushNothing {
		return nil
	}
	if !d.attached || !d.m.present() {
		return errors.New("fake: flush without the medium")
	}
	return os.CopyFS(d.m.dir, os.DirFS(d.spool))
}

func (d *spoolDrive) Detach(ctx context.Context) error {
	if d.attached && !d.bugs.neverEjected {
		d.ejected = true
	}
	return d.fakeDrive.Detach(ctx)
}

func (d *spoolDrive) Ejected() bool { return d.ejected }

// lockedDrive is a fake bucket: offline by a lock it proves at Attach.
type lockedDrive struct {
	*fakeDrive
	lockErr error
}

var _ backup.ImmutabilityProver = (*lockedDrive)(nil)

func (d *lockedDrive) BeforePowerOn() error {
	d.lockErr = errors.New("fake: not proven in this session")
	return d.fakeDrive.BeforePowerOn()
}

func (d *lockedDrive) Attach(ctx context.Context) (string, error) {
	loc, err := d.fakeDrive.Attach(ctx)
	d.lockErr = err
	return loc, err
}

func (d *lockedDrive) Immutable() error {
	if d.bugs.provenAlways {
		return nil
	}
	return d.lockErr
}

// kind is which fake drive a rig gets.
type kind int

const (
	plain kind = iota
	spooled
	locked         // behind a switch (an uplink)
	lockedUnswitch // no switch at all
)

// fakeSuite is the contract suite over fake drives of kind k with bugs b.
func fakeSuite(k kind, b bugs) Suite {
	return Suite{
		Faults:  []Fault{NeverAppears, NeverGoes, WrongMedium, AlreadyThere},
		Timeout: 2 * time.Second,
		New: func(t testing.TB, f Fault) Rig {
			m := &medium{dir: t.TempDir(), id: "right", fault: f}
			spool := t.TempDir()
			if f == WrongMedium {
				m.id = "other"
			}
			newDrive := func(restore bool) backup.Drive {
				fd := &fakeDrive{m: m, always: k == lockedUnswitch, want: "right", wait: 300 * time.Millisecond, bugs: b}
				switch k {
				case spooled:
					return &spoolDrive{fakeDrive: fd, spool: spool, restore: restore}
				case locked, lockedUnswitch:
					return &lockedDrive{fakeDrive: fd}
				}
				return fd
			}
			r := Rig{Target: backup.Target{Name: "fake", Switch: fakeSwitch{m}, Drive: newDrive(false)},
				Reader:    func() (backup.Drive, error) { return newDrive(true), nil },
				Untouched: untouched(m.dir)}
			if k == lockedUnswitch {
				r.Target.Switch = nil
				m.set(true) // a bucket is always there
			}
			return r
		},
	}
}

// untouched reports a file written to the wrong medium's directory.
func untouched(dir string) func() error {
	return func() error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return fmt.Errorf("%s was written to the wrong medium", ents[0].Name())
		}
		return nil
	}
}
