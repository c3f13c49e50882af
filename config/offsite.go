package config

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// DefaultMaxAllHome is how long every medium may stay in the server room
// when an off-site rotation is expected, unless Offsite.MaxAllHome says.
const DefaultMaxAllHome = 14 * 24 * time.Hour

// Offsite is the hospital's off-site rotation: a removable medium (a
// disk, an RDX cartridge, a tape) is taken out of the server room in turn
// so that a fire or flood there does not take every medium. Which medium
// is away is marked on the page and kept in the ledger, not here.
type Offsite struct {
	// Expected says the hospital keeps one medium off-site at all times:
	// while every medium is home for longer than MaxAllHome, an alert
	// says the rotation has lapsed. Off (the default), only a medium away
	// longer than the rotation allows is alerted.
	Expected bool `json:"expected,omitempty"`
	// MaxAllHome is how long every medium may be in the server room at
	// once before the lapse is alerted (empty: 14 days).
	MaxAllHome Duration `json:"max_all_home,omitempty"`
}

// AllHomeLimit is MaxAllHome, or its default when unset.
func (o Offsite) AllHomeLimit() time.Duration {
	if o.MaxAllHome <= 0 {
		return DefaultMaxAllHome
	}
	return o.MaxAllHome.Std()
}

// RotationRuns is how many scheduled runs pass between two writes of one
// medium when every medium is home: 1 when each run writes them all.
func (c *Config) RotationRuns() int {
	n := c.Rotation.PerCycle
	if n <= 0 || n >= len(c.Media) {
		return 1
	}
	return (len(c.Media) + n - 1) / n
}

func (v *checker) offsite(c *Config) {
	o := c.Offsite
	if o.MaxAllHome != 0 && (o.MaxAllHome.Std() < 24*time.Hour || o.MaxAllHome.Std() > 365*24*time.Hour) {
		v.Add("offsite.max_all_home", "1日〜365日にしてください(例: \"14d\")", "must be 1 day to 365 days (e.g. \"14d\")")
	}
	if o.Expected && !c.hasRemovable() {
		v.AddText("offsite.expected", msg.T("院外に持ち出せる媒体(ディスク・RDX・テープ)がありません。媒体を追加するか、院外保管の輪番をオフにしてください",
			"no medium can be taken off-site (a disk, an RDX cartridge or a tape): add one, or turn the off-site rotation off"))
	}
}

// hasRemovable says whether a medium can be carried away: a bucket cannot.
func (c *Config) hasRemovable() bool {
	for _, m := range c.Media {
		if m.Type == MediumDisk || m.Type == MediumTape {
			return true
		}
	}
	return false
}
