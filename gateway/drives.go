package gateway

import (
	"fmt"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
)

// use says why a medium is powered; a driver may act on it (a tape reads
// its archives back before a restore, a new disk is prepared).
type use struct {
	restore bool
	prepare *prepareOpts // set up a freshly formatted medium first
}

type prepareOpts struct {
	mediaID string
	force   bool
}

// drive returns the device side of medium m for the use u. Each medium
// type adds its case here and its adapter in a drive_<type>.go file.
func (g *Gateway) drive(m *config.Medium, u use) (backup.Drive, error) {
	switch m.Type {
	case config.MediumDisk:
		d := g.drives[m.Name]
		if d == nil {
			return nil, fmt.Errorf("medium %s has no driver", m.Name)
		}
		return &diskDrive{d: d, prepare: u.prepare}, nil
	case config.MediumS3:
		return g.newS3Drive(m)
	case config.MediumTape:
		d := g.tapes[m.Name]
		if d == nil {
			return nil, fmt.Errorf("medium %s has no driver", m.Name)
		}
		return &tapeDrive{d: d, restore: u.restore}, nil
	}
	return nil, fmt.Errorf("媒体 %s の種類 %q には対応していません / medium %s: type %q has no driver", m.Name, m.Type, m.Name, m.Type)
}
