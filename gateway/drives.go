package gateway

import (
	"context"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// use says why a medium is powered; a driver may act on it (a tape reads
// its archives back before a restore, a new disk is prepared).
type use struct {
	restore bool
	prepare *prepareOpts // set up a freshly formatted medium first
}

// prepareOpts: a type that needs no preparing (a bucket; a tape is
// labelled on first use anyway) ignores them.
type prepareOpts struct {
	force bool // take over a medium that holds files or another media ID
}

// driver is a configured medium's long-lived side, opened by its medium
// type (mediatypes.go) whenever a configuration is applied.
type driver interface {
	// drive makes the medium's device side for one use.
	drive(u use) (backup.Drive, error)
	// recover runs at start-up before the fail-safe cut: it unmounts what
	// an interrupted run left mounted; found says there was something.
	recover(ctx context.Context) (found bool, err error)
	// goneAtStart checks, after the start-up cut, that the device is
	// gone; checked is false for a medium with no device to look for.
	goneAtStart(ctx context.Context) (checked bool, err error)
}

// drive returns the device side of medium m for the use u.
func (g *Gateway) drive(m *config.Medium, u use) (backup.Drive, error) {
	d := g.media[m.Name]
	if d == nil {
		return nil, msg.Errorf("媒体 %s(種類 %q)を扱うドライバがありません。媒体の種類と設定を確認してください",
			"medium %s (type %q) has no driver: check its type and settings", m.Name, m.Type)
	}
	return d.drive(u)
}
