package gateway

import (
	"context"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
)

// diskDriver is a disk medium's driver; what it sees goes to the evidence
// ledger (and to Options.Disk.Events, if set).
type diskDriver struct{ d *disk.Driver }

var _ driver = (*diskDriver)(nil)

func openDisk(env openEnv, m config.Medium) (driver, error) {
	opts := env.opts.Disk
	opts.Logger = env.log
	user := env.opts.Disk.Events
	opts.Events = func(ev disk.Event) {
		env.record(ledger.Entry{Kind: ev.Kind, Medium: ev.Medium, Message: ev.Message, Payload: ev})
		if user != nil {
			user(ev)
		}
	}
	d, err := disk.New(*m.Disk, opts)
	if err != nil {
		return nil, err
	}
	return &diskDriver{d: d}, nil
}

func (dd *diskDriver) drive(u use) (backup.Drive, error) {
	return &diskDrive{d: dd.d, prepare: u.prepare}, nil
}

func (dd *diskDriver) recover(ctx context.Context) (bool, error) { return dd.d.Recover(ctx) }

func (dd *diskDriver) goneAtStart(ctx context.Context) (bool, error) {
	return true, dd.d.WaitGone(ctx)
}

// diskDrive adapts a disk driver to backup.Drive.
type diskDrive struct {
	d       *disk.Driver
	prepare *prepareOpts
	mounted *disk.Mounted
	kit     *kitJob // recoverykit.go
}

var (
	_ backup.Drive     = (*diskDrive)(nil)
	_ backup.Explainer = (*diskDrive)(nil)
)

func (dd *diskDrive) BeforePowerOn() error { return dd.d.BeforePowerOn() }

func (dd *diskDrive) Attach(ctx context.Context) (string, error) {
	dev, err := dd.d.WaitAppear(ctx)
	if err != nil {
		return "", err
	}
	if dd.prepare != nil {
		// "" writes the media ID of the medium's spec.
		if err := dd.d.Prepare(ctx, dev, "", dd.prepare.force); err != nil {
			return "", err
		}
	}
	m, err := dd.d.Mount(ctx, dev)
	if err != nil {
		return "", err
	}
	dd.mounted = &m
	return m.Repo, nil
}

func (dd *diskDrive) Detach(ctx context.Context) error {
	if dd.mounted == nil {
		return nil
	}
	dd.writeKit(ctx)
	_, err := dd.d.Detach(ctx, *dd.mounted)
	if err == nil {
		dd.mounted = nil
	}
	return err
}

func (dd *diskDrive) WaitGone(ctx context.Context) error { return dd.d.WaitGone(ctx) }

// Explain names a full medium as such, with its capacity.
func (dd *diskDrive) Explain(err error) error {
	if dd.mounted == nil {
		return err
	}
	return dd.d.FullError(err, *dd.mounted)
}
