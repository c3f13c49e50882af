package gateway

import (
	"context"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/tape"
)

// tapeDriver is a tape medium's driver; what it writes to and reads from
// tape goes to the evidence ledger.
type tapeDriver struct{ d *tape.Driver }

var _ driver = (*tapeDriver)(nil)

func openTape(env openEnv, m config.Medium) (driver, error) {
	d, err := tape.New(*m.Tape, tape.Options{Host: env.opts.TapeHosts[m.Name], Logger: env.log,
		Events: func(ev tape.Event) {
			env.record(ledger.Entry{Kind: ev.Kind, Medium: m.Name, Message: ev.Message, Payload: ev})
		}})
	if err != nil {
		return nil, err
	}
	return &tapeDriver{d: d}, nil
}

func (td *tapeDriver) drive(u use) (backup.Drive, error) {
	return &tapeDrive{d: td.d, restore: u.restore}, nil
}

// recover: nothing of a tape stays mounted; the cut ejects nothing more.
func (td *tapeDriver) recover(context.Context) (bool, error) { return false, nil }

func (td *tapeDriver) goneAtStart(ctx context.Context) (bool, error) {
	return true, td.d.WaitGone(ctx)
}

// tapeDrive adapts a tape driver to backup.Drive: a backup works on the
// spool repository and Flush appends it to the tape; a restore reads the
// tape back into a directory first.
type tapeDrive struct {
	d       *tape.Driver
	restore bool
}

var (
	_ backup.Drive   = (*tapeDrive)(nil)
	_ backup.Flusher = (*tapeDrive)(nil)
	_ backup.Ejecter = (*tapeDrive)(nil)
)

func (td *tapeDrive) BeforePowerOn() error { return td.d.BeforePowerOn() }

func (td *tapeDrive) Attach(ctx context.Context) (string, error) {
	return td.d.Attach(ctx, td.restore)
}

func (td *tapeDrive) Flush(ctx context.Context) error    { return td.d.Flush(ctx) }
func (td *tapeDrive) Detach(ctx context.Context) error   { return td.d.Detach(ctx) }
func (td *tapeDrive) WaitGone(ctx context.Context) error { return td.d.WaitGone(ctx) }
func (td *tapeDrive) Ejected() bool                      { return td.d.Ejected() }
