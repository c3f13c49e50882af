package gateway

import (
	"context"

	"github.com/danzen-gw/danzen/media/disk"
)

// diskDrive adapts a disk driver to backup.Drive.
type diskDrive struct {
	d       *disk.Driver
	prepare *prepareOpts
	mounted *disk.Mounted
}

func (dd *diskDrive) BeforePowerOn() error { return dd.d.BeforePowerOn() }

func (dd *diskDrive) Attach(ctx context.Context) (string, error) {
	dev, err := dd.d.WaitAppear(ctx)
	if err != nil {
		return "", err
	}
	if dd.prepare != nil {
		if err := dd.d.Prepare(ctx, dev, dd.prepare.mediaID, dd.prepare.force); err != nil {
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
