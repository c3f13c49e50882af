package gateway

import (
	"context"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/tape"
)

// tapeDrive adapts a tape driver to backup.Drive: a backup works on the
// spool repository and Flush appends it to the tape; a restore reads the
// tape back into a directory first.
type tapeDrive struct {
	d       *tape.Driver
	restore bool
}

func (td *tapeDrive) BeforePowerOn() error { return td.d.BeforePowerOn() }

func (td *tapeDrive) Attach(ctx context.Context) (string, error) {
	return td.d.Attach(ctx, td.restore)
}

func (td *tapeDrive) Flush(ctx context.Context) error    { return td.d.Flush(ctx) }
func (td *tapeDrive) Detach(ctx context.Context) error   { return td.d.Detach(ctx) }
func (td *tapeDrive) WaitGone(ctx context.Context) error { return td.d.WaitGone(ctx) }
func (td *tapeDrive) Ejected() bool                      { return td.d.Ejected() }

// openTapes creates the tape drivers of cfg; what they write to and read
// from tape goes to the evidence ledger.
func (g *Gateway) openTapes(cfg *config.Config) (map[string]*tape.Driver, error) {
	tapes := map[string]*tape.Driver{}
	for _, m := range cfg.Media {
		if m.Type != config.MediumTape || m.Tape == nil {
			continue
		}
		d, err := tape.New(*m.Tape, tape.Options{Host: g.opts.TapeHosts[m.Name], Logger: g.log,
			Events: func(ev tape.Event) {
				g.record(ledger.Entry{Kind: ev.Kind, Medium: m.Name, Message: ev.Message, Payload: ev})
			}})
		if err != nil {
			return nil, err
		}
		tapes[m.Name] = d
	}
	return tapes, nil
}
