package backup

import (
	"context"

	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/relay"
)

// Switch powers one medium; *relay.Relay satisfies it.
type Switch interface {
	Name() string
	On(ctx context.Context) (relay.Result, error)
	Off(ctx context.Context) (relay.Result, error)
}

// Drive is a medium's device side, from power-on to power-off.
type Drive interface {
	// BeforePowerOn notes what is attached before the relay closes, so a
	// device that was already there is never taken for the medium.
	BeforePowerOn() error
	// Attach waits for the device after power-on, checks that it is the
	// expected medium, mounts it and returns the restic repository location.
	Attach(ctx context.Context) (repo string, err error)
	// Detach makes the medium safe to cut: flush, unmount, spin down.
	Detach(ctx context.Context) error
	// WaitGone returns nil once the device has disappeared after power-off.
	WaitGone(ctx context.Context) error
}

// Optional capabilities of a Drive. Each adapter asserts the ones it has
// at compile time (var _ backup.Flusher = …), so renaming a method cannot
// silently switch a capability off.

// Explainer turns a failure seen while its medium was mounted into the
// medium's own words ("the disk is full" rather than restic's text).
type Explainer interface {
	Explain(error) error
}

// Flusher copies a repository spooled on the gateway to its medium (tape);
// Session runs it after fn succeeded and before Detach.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Ejecter reports whether the cartridge was unloaded before the cut; the
// cut's evidence records it.
type Ejecter interface {
	Ejected() bool
}

// ImmutabilityProver is a medium that is offline by immutability (an S3
// bucket's Object Lock): nil means that was proven in this session. Such
// a medium's cut is verified only with that proof.
type ImmutabilityProver interface {
	Immutable() error
}

// Target is one medium written in a cycle.
type Target struct {
	Name string
	// Switch is nil for a medium without a relay (an S3 bucket without an
	// uplink relay): nothing is powered or cut, and it is offline only if
	// its Drive proves immutability.
	Switch Switch
	Drive  Drive
	// BeforeSession, if set, runs first in a Session, before anything is
	// noted or powered: the gateway proves there that a medium whose last
	// cut is not verified is off. An error fails the session unpowered.
	BeforeSession func(ctx context.Context) error
	// Repo carries the password file, host, cache and temp dirs; Location
	// is filled from Drive.Attach.
	Repo restic.Repo
}
