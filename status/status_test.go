package status_test

import (
	"context"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

// The status can never claim more than the ledger proves: only a
// verified cut shows as cut; an unverified or simulated one does not (the
// page's rendering of it: web's TestDashboardShowsEachMediumAndTheTimeline).
func TestStateFollowsTheLedgerOnly(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	clock := now.Add(-2 * time.Hour)
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind ledger.Kind, medium string, data any) {
		if _, err := l.Append(context.Background(), ledger.Entry{Kind: kind, Medium: medium, Payload: data}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"a", "b", "c", "d"} {
		add(ledger.KindPowerOn, m, ledger.PowerOnData{Relay: "r-" + m})
	}
	add(ledger.KindSnapshot, "a", ledger.SnapshotData{Snapshot: "abc123", Source: "emr"})
	add(ledger.KindPowerOffVerified, "a", ledger.CutData{SenseOff: true, DeviceGone: true})
	add(ledger.KindPowerOffUnverified, "b", ledger.CutData{Reason: msg.Plain("sense still ON")})
	add(ledger.KindPowerOffUnverified, "c", ledger.CutData{Reason: msg.Plain("simulated"), Simulated: true})
	add(ledger.KindCycleEnd, "", ledger.CycleEndData{Cycle: "c1", OK: false})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := status.Compute(dir, []string{"a", "b", "c", "d", "e"}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]status.State{"a": status.Cut, "b": status.Fault, "c": status.Simulated, "d": status.Connected, "e": status.Unknown}
	for _, m := range st.Media {
		if m.State != want[m.Name] {
			t.Errorf("%s: state %s, want %s", m.Name, m.State, want[m.Name])
		}
	}
	if st.Media[0].LastSnapshot == nil || st.Media[0].LastSnapshot.ID != "abc123" || st.Media[1].Reason != msg.Plain("sense still ON") {
		t.Fatalf("details lost: %+v %+v", st.Media[0], st.Media[1])
	}
	if st.LastCycle == nil || st.LastCycle.OK || !st.LedgerErr.IsZero() {
		t.Fatalf("cycle/ledger: %+v %q", st.LastCycle, st.LedgerErr)
	}
}
