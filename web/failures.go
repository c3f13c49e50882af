package web

import (
	"slices"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

// failureView is one failure as the dashboard and the history explain it:
// what happened and where in plain words, the technical detail, and what
// hospital staff and the vendor do. The words are the cause's guide
// (alert.Explain), the same the alerts and the operations annex use.
type failureView struct {
	Cause, Severity string
	What, Where     msg.Text
	Detail          msg.Text
	When            string
	Staff, Vendor   msg.Text
}

func explain(f status.Failure, z when.Zone) failureView {
	g := f.Guide()
	v := failureView{Cause: string(g.Cause), Severity: string(g.Severity), What: g.What, Detail: f.Detail, Staff: g.Staff, Vendor: g.Vendor}
	if !f.Time.IsZero() {
		v.When = z.Stamp(f.Time)
	}
	switch {
	case f.Medium != "" && f.Source != "":
		v.Where = msg.Sprintf("(媒体 %s、取得元 %s)", " (medium %s, source %s)", f.Medium, f.Source)
	case f.Medium != "":
		v.Where = msg.Sprintf("(媒体 %s)", " (medium %s)", f.Medium)
	case f.Source != "":
		v.Where = msg.Sprintf("(取得元 %s)", " (source %s)", f.Source)
	}
	return v
}

func explainAll(fs []status.Failure, z when.Zone) []failureView {
	var out []failureView
	for _, f := range fs {
		out = append(out, explain(f, z))
	}
	return out
}

// attention is what the dashboard lists as needing a person, most
// serious first: the status's list, with the source anomalies still open
// in place of those the last cycle flagged (an acknowledged one needs
// nobody any more; unless the open ones could be read, the cycle's
// stand), and extra (low staging space).
func attention(st *status.Status, anomalies []backup.Anomaly, read bool, z when.Zone, extra ...status.Failure) []failureView {
	fs := st.Attention()
	if read {
		fs = slices.DeleteFunc(fs, func(f status.Failure) bool { return f.Cause == alert.CauseAnomaly })
		for _, a := range anomalies {
			fs = append(fs, status.Failure{Cause: alert.CauseAnomaly, Source: a.Source, Detail: a.Summary(), Time: a.Detected})
		}
	}
	return explainAll(status.BySeverity(append(fs, extra...)), z)
}

// historyKinds are the entries the history reads: the cycles, what
// happened to each medium in them, and every failure.
func historyKinds() []ledger.Kind {
	return []ledger.Kind{ledger.KindJobStart, ledger.KindCycleStart, ledger.KindCycleEnd,
		ledger.KindPull, ledger.KindSnapshot, ledger.KindPowerOffVerified, ledger.KindPowerOffUnverified,
		ledger.KindError, ledger.KindCheck, ledger.KindAnomaly, ledger.KindCycleMissed, ledger.KindDrill, ledger.KindScan, ledger.KindLedgerVerified}
}

// failure takes in what e says went wrong: into the cycle under way, or
// as a row of its own (a missed run, a drill, a scan, the ledger's
// verification). Failures of a restore outside any cycle are the restore
// page's.
func (cl *cycleList) failure(e ledger.Entry) {
	f, ok := status.FailureOf(e)
	switch {
	case !ok:
	case f.InCycle() && cl.open >= 0:
		c := &cl.rows[cl.open]
		for _, g := range c.failures {
			if g.Cause == f.Cause && g.Medium == f.Medium && g.Source == f.Source {
				return
			}
		}
		c.failures = append(c.failures, f)
	case !f.InCycle() || f.Cause == alert.CauseMissed:
		by := msg.Plain(e.Actor)
		if e.Actor == "" || e.Actor == ledger.ActorSystem {
			by = msg.T("自動", "automatic")
		}
		cl.rows = append(cl.rows, cycleRow{Started: cl.z.Stamp(e.Time), Ended: cl.z.Stamp(e.Time), Took: msg.Plain("—"),
			By: by, What: standaloneLabel(f.Cause), Result: msg.T("失敗", "FAILED"), failures: []status.Failure{f}})
	}
}

// standaloneLabel names a history row that is not a cycle.
func standaloneLabel(c alert.Cause) msg.Text {
	switch c {
	case alert.CauseMissed:
		return msg.T("予定の未実行", "missed run")
	case alert.CauseDrill:
		return msg.T("復元訓練", "restore drill")
	case alert.CauseScan:
		return msg.T("自己診断", "self-scan")
	}
	return msg.T("証跡台帳の検証", "ledger verification")
}

// explainRows turns each row's failures into their explanations; a failed
// cycle with none on record says so.
func explainRows(rows []cycleRow, z when.Zone) {
	for i := range rows {
		c := &rows[i]
		fs := c.failures
		if c.What.IsZero() && !c.Open {
			fs = status.CycleFailures(c.ID, c.OK, c.endedAt, fs)
		}
		c.Failures = explainAll(fs, z)
	}
}
