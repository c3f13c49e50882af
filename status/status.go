// Package status derives what the page and the CLI show about each medium
// from the evidence ledger alone, so the screen can never claim more than
// the ledger proves.
package status

import (
	"fmt"
	"github.com/danzen-gw/danzen/internal/msg"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

// State of a medium as shown to people.
type State string

const (
	Cut       State = "cut"       // 切断中: the last cut was verified
	Connected State = "connected" // 接続中: powered for a backup or restore
	Fault     State = "fault"     // 異常: a cut was not verified — NOT offline
	Simulated State = "simulated" // シミュレーション: nothing is powered or cut — NOT offline
	Unknown   State = "unknown"   // 未確認: no power record yet
)

// Label is the state's text for people.
func (s State) Label() msg.Text {
	switch s {
	case Cut:
		return msg.T("切断中(確認済み)", "cut, verified")
	case Connected:
		return msg.T("接続中", "connected")
	case Fault:
		return msg.T("異常: 切断を確認できません", "FAULT: cut not verified")
	case Simulated:
		return msg.T("シミュレーション — オフラインではありません", "simulated — not offline")
	}
	return msg.T("未確認", "unknown")
}

// Label is the medium's state for people; an object-locked bucket is
// offline by immutability, and says so rather than "cut".
func (m Medium) Label() msg.Text {
	if m.State == Cut && m.Immutable {
		return msg.T("変更不可(確認済み・オブジェクトロック)", "immutable, verified (Object Lock)")
	}
	return m.State.Label()
}

// Medium is one medium's status.
type Medium struct {
	Name   string
	State  State
	Since  time.Time
	Reason msg.Text
	// Immutable: the last verified "cut" is an S3 bucket's Object Lock
	// proven in the session (with the uplink cut too, if it has a relay).
	Immutable    bool
	LastSnapshot *Snapshot
	Period       ledger.Summary // the last 30 days
}

// Snapshot is the newest snapshot on a medium.
type Snapshot struct {
	Time   time.Time
	ID     string
	Source string
}

// Cycle is the last cycle's outcome.
type Cycle struct {
	ID   string
	Time time.Time
	OK   bool
	Text msg.Text
}

// Status is everything the dashboard shows.
type Status struct {
	Generated time.Time
	Media     []Medium
	LastCycle *Cycle
	LastDrill *ledger.RestoreData // the newest restore drill (訓練記録), nil if none
	LastScan  *ledger.ScanData    // the newest WAN-edge self-scan, nil if none
	NextCycle time.Time           // zero when nothing is scheduled
	Ledger    ledger.Report
	LedgerErr msg.Text
}

// Window is the period the dashboard summarises.
const Window = 30 * 24 * time.Hour

// Compute reads the ledger in dir and summarises the named media.
func Compute(dir string, media []string, now time.Time) (*Status, error) {
	st := &Status{Generated: now}
	rep, verr := ledger.Verify(dir)
	st.Ledger = rep
	if verr != nil {
		st.LedgerErr = msg.TextOf(verr)
	}
	entries, err := ledger.Read(dir, ledger.Filter{})
	if err != nil {
		return st, fmt.Errorf("read the evidence ledger: %w", err)
	}
	for _, name := range media {
		m := Medium{Name: name, State: Unknown}
		for _, e := range entries {
			if e.Medium != name {
				continue
			}
			switch e.Kind {
			case ledger.KindPowerOn:
				m.State, m.Since, m.Reason = Connected, e.Time, msg.Text{}
			case ledger.KindPowerOffVerified:
				// Unreadable data leaves the flags false: never more than proven.
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
			}
		}
		m.Period = ledger.Summarize(entries, name, now.Add(-Window), now)
		st.Media = append(st.Media, m)
	}
	st.LastDrill = newest[ledger.RestoreData](entries, ledger.KindDrill)
	st.LastScan = newest[ledger.ScanData](entries, ledger.KindScan)
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Kind == ledger.KindCycleEnd {
			d, _ := ledger.Decode[ledger.CycleEndData](e)
			st.LastCycle = &Cycle{ID: d.Cycle, Time: e.Time, OK: d.OK, Text: e.Message}
			break
		}
	}
	return st, nil
}

// newest decodes the data of the newest entry of kind (nil if none, or if
// its data cannot be read).
func newest[T any](entries []ledger.Entry, kind ledger.Kind) *T {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Kind == kind {
			d, err := ledger.Decode[T](entries[i])
			if err != nil {
				return nil
			}
			return &d
		}
	}
	return nil
}
