package status_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

// TestLastCycleKeepsWhyItFailed: the status keeps what went wrong in the
// last cycle (and the runs missed before it), without the failures of a
// cycle that never ended or of a restore outside any cycle, so the
// dashboard can explain a failure without reading the ledger again.
func TestLastCycleKeepsWhyItFailed(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	clock := now.Add(-2 * time.Hour)
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind ledger.Kind, medium string, data any) {
		t.Helper()
		if _, err := l.Append(context.Background(), ledger.Entry{Kind: kind, Medium: medium, Message: msg.T("詳細", "detail"), Payload: data}); err != nil {
			t.Fatal(err)
		}
	}
	add(ledger.KindCycleStart, "", ledger.CycleStartData{Cycle: "torn"})
	add(ledger.KindError, "a", ledger.ErrorData{Phase: "attach"}) // that cycle never ended
	add(ledger.KindError, "a", ledger.ErrorData{Phase: "attach"}) // a restore's, outside any cycle
	add(ledger.KindCycleMissed, "", ledger.MissedData{Missed: 2})
	add(ledger.KindCycleStart, "", ledger.CycleStartData{Cycle: "c1"})
	add(ledger.KindError, "", ledger.ErrorData{Phase: "pull", Source: "emr"})
	add(ledger.KindError, "b", ledger.ErrorData{Phase: "backup"})
	add(ledger.KindError, "b", ledger.ErrorData{Phase: "forget"}) // the same cause on the same medium: once
	add(ledger.KindCheck, "b", ledger.CheckData{OK: false})
	add(ledger.KindError, "b", ledger.ErrorData{Phase: "device-gone"}) // said by the cut below
	add(ledger.KindPowerOffUnverified, "b", ledger.CutData{Reason: msg.Plain("sense still ON")})
	add(ledger.KindError, "c", ledger.ErrorData{Phase: "ledger-room"})
	add(ledger.KindCycleEnd, "", ledger.CycleEndData{Cycle: "c1", OK: false})
	add(ledger.KindDrill, "b", ledger.RestoreData{Drill: true, Medium: "b", Error: msg.Plain("3 files differ")})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := status.Compute(dir, []string{"a", "b", "c"}, now)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		cause          alert.Cause
		medium, source string
	}
	var fs []got
	for _, f := range st.LastCycle.Failures {
		fs = append(fs, got{f.Cause, f.Medium, f.Source})
	}
	want := []got{{alert.CauseMissed, "", ""}, {alert.CausePull, "", "emr"}, {alert.CauseMedium, "b", ""}, {alert.CauseCheck, "b", ""},
		{alert.CauseCut, "b", ""}, {alert.CauseLedgerFull, "c", ""}}
	if !slices.Equal(fs, want) {
		t.Fatalf("last cycle's failures:\n got %+v\nwant %+v", fs, want)
	}
	if r := st.LastCycle.Failures[4].Detail; r != msg.Plain("sense still ON") {
		t.Errorf("the cut's failure says %q, not its reason", r)
	}
	att := st.Attention()
	if len(att) != len(want)+1 || att[0].Cause != alert.CauseCut || !slices.ContainsFunc(att, func(f status.Failure) bool { return f.Cause == alert.CauseDrill }) {
		t.Errorf("attention (most serious first, with the drill): %+v", att)
	}

	// A failed cycle with no cause on record still says why it shows red.
	st.LastCycle = &status.Cycle{ID: "c2", Time: now}
	if att := st.Attention(); !slices.ContainsFunc(att, func(f status.Failure) bool { return f.Cause == alert.CauseOther }) {
		t.Errorf("a failed cycle without a recorded cause: %+v", att)
	}
}
