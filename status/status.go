// Package status derives what the page and the CLI show about each medium
// from the evidence ledger alone, so the screen can never claim more than
// the ledger proves. Compute reads the whole ledger for it; a Tracker
// (danzend) keeps the same as entries are appended, so a page view costs
// the same after ten years as on the first day.
package status

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
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
	// RecoveryKit is the newest refresh of the medium's recovery kit
	// (ledger.KindRecoveryKit); nil when none is on record.
	RecoveryKit *Kit `json:",omitempty"`
}

// Kit is how the recovery kit's last refresh on a medium went.
type Kit struct {
	Time time.Time `json:"time"`
	OK   bool      `json:"ok"`
	Text msg.Text  `json:"text,omitzero"`
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
	// Failures say what went wrong in it, as the ledger recorded it
	// (also when it succeeded: an anomaly, a run missed before it).
	Failures []Failure `json:",omitempty"`
	// Pulls are its pull records, one per source pulled: what each
	// brought and what it left out.
	Pulls []ledger.PullData `json:",omitempty"`
}

// FullVerify is the newest verification of the whole ledger, as the
// ledger records it (ledger.KindLedgerVerified).
type FullVerify struct {
	Time time.Time                 `json:"time"`
	Data ledger.LedgerVerifiedData `json:"data"`
}

// Status is everything the dashboard shows.
type Status struct {
	Generated time.Time
	Media     []Medium
	LastCycle *Cycle
	LastDrill *ledger.RestoreData // the newest restore drill (訓練記録), nil if none
	LastScan  *ledger.ScanData    // the newest WAN-edge self-scan, nil if none
	// LastFullVerify is the newest full verification of the ledger, nil
	// if none was recorded yet.
	LastFullVerify *FullVerify
	NextCycle      time.Time // zero when nothing is scheduled
	Ledger         ledger.Report
	LedgerErr      msg.Text
}

// Window is the period the dashboard summarises.
const Window = 30 * 24 * time.Hour

// Compute reads and verifies the whole ledger in dir and summarises the
// named media. It is what a Tracker gives without keeping anything, and
// costs a full read: danzend shows a Tracker's status instead.
func Compute(dir string, media []string, now time.Time) (*Status, error) {
	rep, verr := ledger.Verify(dir)
	entries, err := ledger.Read(dir, ledger.Filter{})
	if err != nil {
		return brokenStatus(now, rep, verr, err)
	}
	var f fold
	for _, e := range entries {
		f.add(e)
	}
	from := now.Add(-Window)
	st := f.status(media, now, func(name string) ledger.Summary { return ledger.Summarize(entries, name, from, now) })
	st.Ledger = rep
	if verr != nil {
		st.LedgerErr = msg.TextOf(verr)
	}
	return st, nil
}

// brokenStatus is the status of a ledger whose entries cannot be read
// (readErr): its verification and nothing it would claim.
func brokenStatus(now time.Time, rep ledger.Report, verr, readErr error) (*Status, error) {
	st := &Status{Generated: now, Ledger: rep}
	if verr != nil {
		st.LedgerErr = msg.TextOf(verr)
	}
	return st, msg.Wrap(readErr, "証跡台帳を読めません", "cannot read the evidence ledger")
}
