package status

import (
	"slices"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Failure is one thing that went wrong, as the ledger recorded it. Its
// cause's guide (alert.Explain) says in plain words what happened and
// what staff and the vendor do; Detail is the technical cause.
type Failure struct {
	Cause  alert.Cause `json:"cause"`
	Medium string      `json:"medium,omitempty"`
	Source string      `json:"source,omitempty"`
	Detail msg.Text    `json:"detail,omitzero"`
	// Time is when it happened (for a missed cycle: when the first
	// missed run was due).
	Time time.Time `json:"time,omitzero"`
}

// Guide is f's explanation.
func (f Failure) Guide() alert.Guide { return alert.Explain(f.Cause) }

// InCycle reports whether f belongs to the cycle it was recorded in (or,
// for a missed run, the cycle that follows it); drills, scans and the
// ledger's verification stand on their own.
func (f Failure) InCycle() bool {
	switch f.Cause {
	case alert.CauseDrill, alert.CauseScan, alert.CauseLedger:
		return false
	}
	return true
}

// maxCycleFailures bounds what one cycle keeps: a medium failing at every
// step still shows its first causes.
const maxCycleFailures = 20

// FailureOf reads the failure e records, if it records one. Errors of a
// restore session (outside a cycle) are read as well: the caller decides
// which entries it takes.
func FailureOf(e ledger.Entry) (Failure, bool) {
	f := Failure{Medium: e.Medium, Detail: e.Message, Time: e.Time}
	switch e.Kind {
	case ledger.KindError:
		d, _ := ledger.Decode[ledger.ErrorData](e) // unreadable: a step failed all the same
		f.Source = d.Source
		f.Cause = errorCause(d.Phase, e.Medium)
		return f, f.Cause != ""
	case ledger.KindCheck:
		d, _ := ledger.Decode[ledger.CheckData](e) // unreadable: counted as failed, as Summarize does
		f.Cause = alert.CauseCheck
		return f, !d.OK
	case ledger.KindPowerOffUnverified:
		d, _ := ledger.Decode[ledger.CutData](e)
		f.Cause = alert.CauseCut
		if d.Simulated {
			f.Cause = alert.CauseSimulated
		}
		if !d.Reason.IsZero() {
			f.Detail = d.Reason
		}
		return f, true
	case ledger.KindAnomaly:
		f.Cause = alert.CauseAnomaly
		if d, err := ledger.Decode[ledger.AnomalyData](e); err == nil {
			f.Source, f.Detail = d.Source, d.Summary()
		}
		return f, true
	case ledger.KindCycleMissed:
		d, _ := ledger.Decode[ledger.MissedData](e)
		f.Cause = alert.CauseMissed
		f.Detail = msg.Sprintf("実行されなかった予定: %d 回", "scheduled runs missed: %d", d.Missed)
		if !d.FirstDue.IsZero() {
			f.Time = d.FirstDue
		}
		return f, true
	case ledger.KindRecoveryKit:
		// Not a failed backup: the medium lacks the kit an offline PC
		// restores with (the entry's message says so and why).
		d, err := ledger.Decode[ledger.RecoveryKitData](e)
		f.Cause = alert.CauseRecoveryKit
		return f, err != nil || !d.OK
	}
	return standaloneFailure(e, f)
}

// standaloneFailure reads the failures that are not part of a cycle: a
// drill, a scan, the ledger's verification.
func standaloneFailure(e ledger.Entry, f Failure) (Failure, bool) {
	switch e.Kind {
	case ledger.KindDrill:
		d, err := ledger.Decode[ledger.RestoreData](e)
		f.Cause = alert.CauseDrill
		if err == nil && !d.Error.IsZero() {
			f.Detail = d.Error
		}
		return f, err != nil || !d.OK
	case ledger.KindScan:
		d, err := ledger.Decode[ledger.ScanData](e)
		f.Cause = alert.CauseScan
		if err == nil {
			f.Detail = d.Error
		}
		return f, err != nil || !d.Error.IsZero()
	case ledger.KindLedgerVerified:
		d, err := ledger.Decode[ledger.LedgerVerifiedData](e)
		f.Cause = alert.CauseLedger
		if err == nil && !d.Problem.IsZero() {
			f.Detail = d.Problem
		}
		return f, err != nil || !d.OK
	}
	return Failure{}, false
}

// errorCause is the cause of an error entry recorded in phase. The
// device-gone error is left out: the unverified cut that follows it says
// the same with every reason.
func errorCause(phase, medium string) alert.Cause {
	switch {
	case phase == "device-gone":
		return ""
	case phase == "pull":
		return alert.CausePull
	case phase == "ledger-room":
		return alert.CauseLedgerFull
	case medium != "" && phase != "anomaly":
		return alert.CauseMedium
	}
	return alert.CauseOther
}

// addFailure appends f to list unless the same cause is already there
// for the same medium and source, or the list is full.
func addFailure(list []Failure, f Failure) []Failure {
	if len(list) >= maxCycleFailures {
		return list
	}
	for _, g := range list {
		if g.Cause == f.Cause && g.Medium == f.Medium && g.Source == f.Source {
			return list
		}
	}
	return append(list, f)
}

// Attention lists what needs a person now, most serious first: the last
// cycle's failures (a failed cycle without any on record says so), a
// failed last drill or scan, and the ledger failing verification. Open
// source anomalies are kept by package backup, not the ledger; the page
// adds them.
func (st *Status) Attention() []Failure {
	var out []Failure
	if c := st.LastCycle; c != nil {
		out = CycleFailures(c.ID, c.OK, c.Time, c.Failures)
	}
	if d := st.LastDrill; d != nil && !d.OK {
		out = append(out, Failure{Cause: alert.CauseDrill, Medium: d.Medium, Detail: d.Error, Time: d.Started})
	}
	if s := st.LastScan; s != nil && !s.Error.IsZero() {
		out = append(out, Failure{Cause: alert.CauseScan, Detail: s.Error, Time: s.Finished})
	}
	switch v := st.LastFullVerify; {
	case !st.LedgerErr.IsZero():
		out = append(out, Failure{Cause: alert.CauseLedger, Detail: st.LedgerErr, Time: st.Generated})
	case v != nil && !v.Data.OK:
		out = append(out, Failure{Cause: alert.CauseLedger, Detail: v.Data.Problem, Time: v.Time})
	}
	return BySeverity(out)
}

// CycleFailures is a copy of fs, the failures of cycle id that ended at
// end, and for a failed cycle none of which explains the failure, one
// saying that no cause was recorded: a failure is never shown without a
// why.
func CycleFailures(id string, ok bool, end time.Time, fs []Failure) []Failure {
	out := slices.Clone(fs)
	if ok || hasCycleCause(fs) {
		return out
	}
	return append(out, Failure{Cause: alert.CauseOther, Time: end,
		Detail: msg.Sprintf("サイクル %s は失敗しましたが、原因は記録されていません", "cycle %s failed, but no cause was recorded", id)})
}

// hasCycleCause reports whether fs explains a failed cycle: a missed run
// or an anomaly alone does not fail one.
func hasCycleCause(fs []Failure) bool {
	for _, f := range fs {
		if f.Cause != alert.CauseMissed && f.Cause != alert.CauseAnomaly {
			return true
		}
	}
	return false
}

// BySeverity orders fs as the guide lists their causes (most serious
// first), keeping the recorded order within a cause.
func BySeverity(fs []Failure) []Failure {
	rank := map[alert.Cause]int{}
	for i, g := range alert.Guides() {
		rank[g.Cause] = i
	}
	out := make([]Failure, 0, len(fs))
	for _, g := range alert.Guides() {
		for _, f := range fs {
			if f.Cause == g.Cause {
				out = append(out, f)
			}
		}
	}
	for _, f := range fs {
		if _, known := rank[f.Cause]; !known {
			out = append(out, f)
		}
	}
	return out
}
