package gateway

import "github.com/danzen-gw/danzen/backup"

// TargetFor is target for the drive contract (drivecontract_test.go): the
// drive of a session that writes prepares the medium first, as
// PrepareMedium does; the other is a restore's.
func (g *Gateway) TargetFor(name string, restore bool) (backup.Target, error) {
	u := use{restore: restore}
	if !restore {
		u.prepare = &prepareOpts{}
	}
	return g.target(name, u)
}
