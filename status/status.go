// Package status derives what the page and the CLI show about each medium
// from the evidence ledger alone, so the screen can never claim more than
// the ledger proves.
package status

import (
	"encoding/json"
	"fmt"
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

// Label is the state's text, Japanese first.
func (s State) Label() string {
	switch s {
	case Cut:
		return "切断中(確認済み) / cut, verified"
	case Connected:
		return "接続中 / connected"
	case Fault:
		return "異常: 切断を確認できません / FAULT: cut not verified"
	case Simulated:
		return "シミュレーション — オフラインではありません / simulated — not offline"
	}
	return "未確認 / unknown"
}

// Label is the medium's state for people; an object-locked bucket is
// offline by immutability, and says so rather than "cut".
func (m Medium) Label() string {
	if m.State == Cut && m.Immutable {
		return "変更不可(確認済み・オブジェクトロック) / immutable, verified (Object Lock)"
	}
	return m.State.Label()
}

// Medium is one medium's status.
type Medium struct {
	Name   string
	State  State
	Since  time.Time
	Reason string
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
	Text string
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
	LedgerErr string
}

// Window is the period the dashboard summarises.
const Window = 30 * 24 * time.Hour

// Compute reads the ledger in dir and summarises the named media.
func Compute(dir string, media []string, now time.Time) (*Status, error) {
	st := &Status{Generated: now}
	rep, verr := ledger.Verify(dir)
	st.Ledger = rep
	if verr != nil {
		st.LedgerErr = verr.Error()
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
				m.State, m.Since, m.Reason = Connected, e.Time, ""
			case ledger.KindPowerOffVerified:
				m.State, m.Since, m.Reason = Cut, e.Time, ""
				var cut ledger.CutData
				json.Unmarshal(e.Data, &cut)
				m.Immutable = cut.Immutable
			case ledger.KindPowerOffUnverified:
				var cut struct {
					Reason    string `json:"reason"`
					Simulated bool   `json:"simulated"`
				}
				json.Unmarshal(e.Data, &cut)
				m.State, m.Since, m.Reason = Fault, e.Time, cut.Reason
				if cut.Simulated {
					m.State = Simulated
				}
			case ledger.KindSnapshot:
				var s struct {
					Snapshot string `json:"snapshot"`
					Source   string `json:"source"`
				}
				json.Unmarshal(e.Data, &s)
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
			var d struct {
				Cycle string `json:"cycle"`
				OK    bool   `json:"ok"`
			}
			json.Unmarshal(e.Data, &d)
			st.LastCycle = &Cycle{ID: d.Cycle, Time: e.Time, OK: d.OK, Text: e.Message}
			break
		}
	}
	return st, nil
}

// newest decodes the data of the newest entry of kind (nil if none, or if
// its data cannot be read).
func newest[T any](entries []ledger.Entry, kind string) *T {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Kind == kind {
			var d T
			if entries[i].DecodeData(&d) != nil {
				return nil
			}
			return &d
		}
	}
	return nil
}
