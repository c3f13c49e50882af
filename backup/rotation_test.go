package backup

import (
	"slices"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

func TestDueRotatesAndCatchesUp(t *testing.T) {
	media := []string{"A", "B", "C"}
	last := map[string]time.Time{}
	now := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var got []string
	for night := 0; night < 4; night++ {
		d := Due(media, 1, last)
		got = append(got, d...)
		last[d[0]] = now.Add(time.Duration(night) * 24 * time.Hour)
	}
	if !slices.Equal(got, []string{"A", "B", "C", "A"}) {
		t.Fatalf("rotation = %v", got)
	}
	// B missed its night (not written): it comes first next time.
	last = map[string]time.Time{"A": now, "B": now.Add(-72 * time.Hour), "C": now.Add(-24 * time.Hour)}
	if d := Due(media, 1, last); !slices.Equal(d, []string{"B"}) {
		t.Fatalf("due = %v, want B", d)
	}
	if d := Due(media, 0, last); len(d) != 3 {
		t.Fatalf("perCycle 0 should write every medium, got %v", d)
	}
}

func TestLastWrittenFromLedger(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	entries := []ledger.Entry{
		{Kind: ledger.KindSnapshot, Medium: "A", Time: t0},
		{Kind: ledger.KindPowerOn, Medium: "B", Time: t0.Add(time.Hour)},
		{Kind: ledger.KindSnapshot, Medium: "A", Time: t0.Add(2 * time.Hour)},
	}
	last := LastWritten(entries)
	if !last["A"].Equal(t0.Add(2*time.Hour)) || !last["B"].IsZero() {
		t.Fatalf("last = %v", last)
	}
}
