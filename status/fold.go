package status

import (
	"slices"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// fold is what the status keeps of the ledger's entries, taken in seq
// order: each medium's last state and snapshot, and the newest cycle,
// drill, scan and full verification. Compute folds every entry at once,
// a Tracker one at a time (and keeps it in its checkpoint).
type fold struct {
	Media      map[string]*mediumFold `json:"media,omitempty"`
	LastCycle  *Cycle                 `json:"last_cycle,omitempty"`
	LastDrill  *ledger.RestoreData    `json:"last_drill,omitempty"`
	LastScan   *ledger.ScanData       `json:"last_scan,omitempty"`
	LastVerify *FullVerify            `json:"last_verify,omitempty"`
	Open       Unfinished             `json:"open,omitzero"`
	// Pending are the failures of the cycle under way (and runs missed
	// before it), handed to LastCycle when it ends.
	Pending []Failure `json:"pending,omitempty"`
	// Pulls are the pull records of the cycle under way, handed to
	// LastCycle when it ends.
	Pulls []ledger.PullData `json:"pulls,omitempty"`
}

// Unfinished is what the ledger shows started and not ended; after a
// crash, the start-up finishes it (gateway).
type Unfinished struct {
	Cycle    string          `json:"cycle,omitempty"`     // a cycle started and not ended
	Media    map[string]bool `json:"media,omitempty"`     // media powered on and never cut
	SendBack string          `json:"send_back,omitempty"` // host:dir of a send-back started and not ended
}

// mediumFold is one medium's state as its entries left it. Values it
// points to are replaced, never changed, so a Status may share them.
type mediumFold struct {
	State        State     `json:"state"`
	Since        time.Time `json:"since,omitzero"`
	Reason       msg.Text  `json:"reason,omitzero"`
	Immutable    bool      `json:"immutable,omitempty"`
	LastSnapshot *Snapshot `json:"last_snapshot,omitempty"`
	RecoveryKit  *Kit      `json:"recovery_kit,omitempty"`
}

// add takes the next entry.
func (f *fold) add(e ledger.Entry) {
	if e.Medium != "" {
		f.medium(e.Medium).add(e)
	}
	f.Open.add(e)
	f.addFailure(e)
	switch e.Kind {
	case ledger.KindCycleEnd:
		d, _ := ledger.Decode[ledger.CycleEndData](e) // unreadable: a cycle that did not succeed
		f.LastCycle = &Cycle{ID: d.Cycle, Time: e.Time, OK: d.OK, Text: e.Message, Failures: f.Pending, Pulls: f.Pulls}
		f.Pending, f.Pulls = nil, nil
	case ledger.KindCycleStart:
		f.Pulls = nil
	case ledger.KindPull:
		if d := decoded[ledger.PullData](e); d != nil {
			f.Pulls = append(f.Pulls, *d)
		}
	case ledger.KindDrill:
		f.LastDrill = decoded[ledger.RestoreData](e)
	case ledger.KindScan:
		f.LastScan = decoded[ledger.ScanData](e)
	case ledger.KindLedgerVerified:
		f.LastVerify = nil
		if d := decoded[ledger.LedgerVerifiedData](e); d != nil {
			f.LastVerify = &FullVerify{Time: e.Time, Data: *d}
		}
	}
}

// addFailure keeps what e says went wrong in the cycle under way. A new
// cycle drops what one that never ended left, but not the runs missed
// before it.
func (f *fold) addFailure(e ledger.Entry) {
	if e.Kind == ledger.KindCycleStart {
		f.Pending = slices.DeleteFunc(f.Pending, func(fl Failure) bool { return fl.Cause != alert.CauseMissed })
		return
	}
	fl, ok := FailureOf(e)
	if ok && fl.InCycle() && (f.Open.Cycle != "" || fl.Cause == alert.CauseMissed) {
		f.Pending = addFailure(f.Pending, fl)
	}
}

// add takes the next entry; unreadable data leaves an empty name.
func (u *Unfinished) add(e ledger.Entry) {
	switch e.Kind {
	case ledger.KindCycleStart:
		d, _ := ledger.Decode[ledger.CycleStartData](e)
		u.Cycle = d.Cycle
	case ledger.KindCycleEnd:
		u.Cycle = ""
	case ledger.KindPowerOn:
		if u.Media == nil {
			u.Media = map[string]bool{}
		}
		u.Media[e.Medium] = true
	case ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified:
		delete(u.Media, e.Medium)
	case ledger.KindSendBackStart:
		d, _ := ledger.Decode[ledger.SendBackStartData](e)
		u.SendBack = d.Host + ":" + d.Dir
	case ledger.KindSendBack:
		u.SendBack = ""
	}
}

func (f *fold) medium(name string) *mediumFold {
	if f.Media == nil {
		f.Media = map[string]*mediumFold{}
	}
	m := f.Media[name]
	if m == nil {
		m = &mediumFold{State: Unknown}
		f.Media[name] = m
	}
	return m
}

// add takes the medium's next entry. Unreadable data leaves the flags
// false: never more than proven.
func (m *mediumFold) add(e ledger.Entry) {
	switch e.Kind {
	case ledger.KindPowerOn:
		m.State, m.Since, m.Reason = Connected, e.Time, msg.Text{}
	case ledger.KindPowerOffVerified:
		cut, _ := ledger.Decode[ledger.CutData](e)
		m.State, m.Since, m.Reason, m.Immutable = Cut, e.Time, msg.Text{}, cut.Immutable
	case ledger.KindPowerOffUnverified:
		cut, _ := ledger.Decode[ledger.CutData](e)
		m.State, m.Since, m.Reason = Fault, e.Time, cut.Reason
		if cut.Simulated {
			m.State = Simulated
		}
	case ledger.KindSnapshot:
		s, _ := ledger.Decode[ledger.SnapshotData](e)
		m.LastSnapshot = &Snapshot{Time: e.Time, ID: s.Snapshot, Source: s.Source}
	case ledger.KindRecoveryKit:
		d := decoded[ledger.RecoveryKitData](e)
		m.RecoveryKit = &Kit{Time: e.Time, OK: d != nil && d.OK, Text: e.Message}
	}
}

// decoded is e's data, nil when it cannot be read: the newest entry of a
// kind stands even when unreadable, so an older one never shows instead.
func decoded[T any](e ledger.Entry) *T {
	d, err := ledger.Decode[T](e)
	if err != nil {
		return nil
	}
	return &d
}

// status is the fold's view of the named media at now, with each
// medium's period from period.
func (f *fold) status(media []string, now time.Time, period func(name string) ledger.Summary) *Status {
	st := &Status{Generated: now, LastCycle: f.LastCycle, LastDrill: f.LastDrill, LastScan: f.LastScan, LastFullVerify: f.LastVerify}
	for _, name := range media {
		m := Medium{Name: name, State: Unknown}
		if mf := f.Media[name]; mf != nil {
			m.State, m.Since, m.Reason, m.Immutable, m.LastSnapshot = mf.State, mf.Since, mf.Reason, mf.Immutable, mf.LastSnapshot
			m.RecoveryKit = mf.RecoveryKit
		}
		m.Period = period(name)
		st.Media = append(st.Media, m)
	}
	return st
}
