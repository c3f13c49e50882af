// Package offsite folds the ledger's off-site marks into each medium's
// state: away or home, since when, by whom, and when an away medium must
// be back for the rotation to hold. The gateway (cycle, page, alerts) and
// the documents read the same fold, so the page and the papers agree.
package offsite

import (
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/schedule"
)

// Medium is one medium's off-site state.
type Medium struct {
	Name string
	// Portable: the medium can be carried away (a disk, an RDX cartridge,
	// a tape); a bucket cannot.
	Portable bool
	Away     bool
	// Since is when it was taken away (Away) or last brought back (zero
	// when it never left).
	Since time.Time
	By    string // who carried it
	Actor string // who marked it on the page
	Note  string
	// LastWritten is its newest snapshot (zero: never written).
	LastWritten time.Time
	// DueBack is, while away, the start of the scheduled run at which the
	// rotation writes it again: it must be back before then. Zero when
	// nothing is scheduled.
	DueBack time.Time
	// Overdue: away, and DueBack has passed.
	Overdue bool
	// LastSkipped is the newest cycle that passed over it while away.
	LastSkipped time.Time
}

// State is the off-site rotation as a whole.
type State struct {
	Media []Medium // in the configuration's order
	// Expected and AllHomeLimit are the configuration's (config.Offsite).
	Expected     bool
	AllHomeLimit time.Duration
	// AllHomeSince is, while no medium is away, since when: the newest
	// return, or the first snapshot when none ever left; zero while one is
	// away or nothing was ever written.
	AllHomeSince time.Time
	// Lapsed: off-site rotation is expected and every medium has been
	// home for longer than AllHomeLimit.
	Lapsed bool
}

// Input is what Fold reads.
type Input struct {
	Config *config.Config
	// Marks are the ledger's KindOffsite entries, oldest first.
	Marks []ledger.Entry
	// LastWritten is each medium's newest snapshot.
	LastWritten map[string]time.Time
	// FirstWritten is the ledger's first snapshot: the all-home period
	// counts from there when no medium ever left.
	FirstWritten time.Time
	Now          time.Time
}

// Fold works out the state at in.Now.
func Fold(in Input) State {
	cfg := in.Config
	st := State{Expected: cfg.Offsite.Expected, AllHomeLimit: cfg.Offsite.AllHomeLimit()}
	byName := map[string]*Medium{}
	st.Media = make([]Medium, len(cfg.Media))
	for i, m := range cfg.Media {
		st.Media[i] = Medium{Name: m.Name, Portable: Portable(m), LastWritten: in.LastWritten[m.Name]}
		byName[m.Name] = &st.Media[i]
	}
	var lastReturn time.Time
	for _, e := range in.Marks {
		d, err := ledger.Decode[ledger.OffsiteData](e)
		if err != nil {
			continue
		}
		at := markTime(e, d)
		if d.Action == ledger.OffsiteReturned && at.After(lastReturn) {
			lastReturn = at // a medium since removed from the configuration still counts
		}
		m := byName[e.Medium]
		if m == nil {
			continue
		}
		switch d.Action {
		case ledger.OffsiteAway, ledger.OffsiteReturned:
			m.Away, m.Since, m.By, m.Actor, m.Note = d.Action == ledger.OffsiteAway, at, d.By, e.Actor, d.Note
		case ledger.OffsiteSkipped:
			m.LastSkipped = at
		}
	}
	anyAway := false
	for i := range st.Media {
		m := &st.Media[i]
		if !m.Away {
			continue
		}
		anyAway = true
		m.DueBack = DueBack(cfg, m.LastWritten, m.Since)
		m.Overdue = !m.DueBack.IsZero() && !in.Now.Before(m.DueBack)
	}
	if !anyAway {
		st.AllHomeSince = lastReturn
		if st.AllHomeSince.IsZero() {
			st.AllHomeSince = in.FirstWritten
		}
		st.Lapsed = st.Expected && !st.AllHomeSince.IsZero() && in.Now.Sub(st.AllHomeSince) > st.AllHomeLimit
	}
	return st
}

// LapsesAt is when the all-home period ends (zero while a medium is away).
func (s State) LapsesAt() time.Time {
	if s.AllHomeSince.IsZero() {
		return time.Time{}
	}
	return s.AllHomeSince.Add(s.AllHomeLimit)
}

// markTime is when a mark says it happened: its own At, else when it was
// recorded.
func markTime(e ledger.Entry, d ledger.OffsiteData) time.Time {
	if !d.At.IsZero() {
		return d.At
	}
	return e.Time
}

// Portable says whether m can be carried off-site.
func Portable(m config.Medium) bool {
	return m.Type == config.MediumDisk || m.Type == config.MediumTape
}

// DueBack is the start of the scheduled run at which the rotation would
// write a medium last written at written (or, never written, taken away
// at away) again: each medium is written once every cfg.RotationRuns()
// runs, so it must be back before that run. Zero when nothing is
// scheduled.
func DueBack(cfg *config.Config, written, away time.Time) time.Time {
	sc, err := schedule.Parse(cfg.Schedule)
	if err != nil || cfg.Schedule == "" {
		return time.Time{}
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	t := written
	if t.IsZero() {
		t = away
	}
	t = t.In(loc)
	for range cfg.RotationRuns() {
		if t = sc.Next(t); t.IsZero() {
			return time.Time{}
		}
	}
	return t
}

// Get returns the state of the medium called name.
func (s State) Get(name string) (Medium, bool) {
	for _, m := range s.Media {
		if m.Name == name {
			return m, true
		}
	}
	return Medium{}, false
}

// Home returns names without the media that are away, in their order.
func (s State) Home(names []string) []string {
	var out []string
	for _, n := range names {
		if m, ok := s.Get(n); !ok || !m.Away {
			out = append(out, n)
		}
	}
	return out
}

// Away returns the media that are away, in the configuration's order.
func (s State) Away() []Medium {
	var out []Medium
	for _, m := range s.Media {
		if m.Away {
			out = append(out, m)
		}
	}
	return out
}

// FromEntries folds the ledger entries of a document's input (any kinds,
// oldest first): the marks, the snapshots, the first snapshot.
func FromEntries(cfg *config.Config, entries []ledger.Entry, now time.Time) State {
	in := Input{Config: cfg, LastWritten: map[string]time.Time{}, Now: now}
	for _, e := range entries {
		switch e.Kind {
		case ledger.KindOffsite:
			in.Marks = append(in.Marks, e)
		case ledger.KindSnapshot:
			if e.Medium != "" && e.Time.After(in.LastWritten[e.Medium]) {
				in.LastWritten[e.Medium] = e.Time
			}
			if in.FirstWritten.IsZero() || e.Time.Before(in.FirstWritten) {
				in.FirstWritten = e.Time
			}
		}
	}
	return Fold(in)
}
