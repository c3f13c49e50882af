package offsite_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/offsite"
)

var tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}()

func day(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, tokyo) }

func cfgOf(perCycle int, media ...config.Medium) *config.Config {
	c := config.Default()
	c.Schedule, c.TimeZone, c.Rotation.PerCycle, c.Media = "daily 02:00", "Asia/Tokyo", perCycle, media
	return c
}

func mark(t *testing.T, medium string, d ledger.OffsiteData) ledger.Entry {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Entry{Kind: ledger.KindOffsite, Medium: medium, Time: d.At, Data: raw}
}

var (
	diskA = config.Medium{Name: "a", Type: config.MediumDisk}
	diskB = config.Medium{Name: "b", Type: config.MediumDisk}
	diskC = config.Medium{Name: "c", Type: config.MediumDisk}
	tape  = config.Medium{Name: "lto", Type: config.MediumTape}
	cloud = config.Medium{Name: "cloud", Type: config.MediumS3}
)

// TestDueBackFollowsTheRotation: a medium is due back by the run at
// which the rotation writes it again, counted from its last write (from
// when it left, never written); every run writing every medium makes it
// the next run; no schedule, no date.
func TestDueBackFollowsTheRotation(t *testing.T) {
	cases := []struct {
		name          string
		cfg           *config.Config
		written, away time.Time
		want          time.Time
	}{
		{"three media one a night", cfgOf(1, diskA, diskB, diskC), day(1, 2, 10), day(1, 9, 0), day(4, 2, 0)},
		{"two of four a night", cfgOf(2, diskA, diskB, diskC, tape), day(1, 2, 10), day(1, 9, 0), day(3, 2, 0)},
		{"all every night", cfgOf(0, diskA, diskB), day(1, 2, 10), day(1, 9, 0), day(2, 2, 0)},
		{"never written", cfgOf(1, diskA, diskB), time.Time{}, day(1, 9, 0), day(3, 2, 0)},
	}
	for _, c := range cases {
		if got := offsite.DueBack(c.cfg, c.written, c.away); !got.Equal(c.want) {
			t.Errorf("%s: due %v, want %v", c.name, got, c.want)
		}
	}
	manual := cfgOf(1, diskA, diskB)
	manual.Schedule = ""
	if got := offsite.DueBack(manual, day(1, 2, 10), day(1, 9, 0)); !got.IsZero() {
		t.Errorf("no schedule: due %v", got)
	}
}

// TestFoldAwayHomeAndLapse: the newest mark of each medium wins; a bucket
// is never portable; with every medium home, the period runs from the
// newest return (or the first snapshot) and lapses only when expected.
func TestFoldAwayHomeAndLapse(t *testing.T) {
	cfg := cfgOf(1, diskA, diskB, cloud)
	cfg.Offsite = config.Offsite{Expected: true, MaxAllHome: config.Duration(7 * 24 * time.Hour)}
	marks := []ledger.Entry{
		mark(t, "a", ledger.OffsiteData{Action: ledger.OffsiteAway, At: day(1, 9, 0), By: "佐藤"}),
		mark(t, "a", ledger.OffsiteData{Action: ledger.OffsiteSkipped, At: day(2, 2, 1)}),
		mark(t, "a", ledger.OffsiteData{Action: ledger.OffsiteReturned, At: day(3, 9, 0), By: "田中"}),
	}
	in := offsite.Input{Config: cfg, Marks: marks[:2], LastWritten: map[string]time.Time{"a": day(1, 2, 10), "b": day(2, 2, 10)},
		FirstWritten: day(1, 2, 10), Now: day(2, 12, 0)}
	st := offsite.Fold(in)
	a, _ := st.Get("a")
	if !a.Away || a.By != "佐藤" || !a.LastSkipped.Equal(day(2, 2, 1)) || !a.DueBack.Equal(day(4, 2, 0)) || a.Overdue || !st.AllHomeSince.IsZero() {
		t.Fatalf("away: %+v %+v", a, st)
	}
	if c, _ := st.Get("cloud"); c.Portable {
		t.Fatal("a bucket is portable")
	}
	in.Now = day(4, 2, 0)
	if a, _ := offsite.Fold(in).Get("a"); !a.Overdue {
		t.Fatalf("not overdue at its due run: %+v", a)
	}

	in.Marks, in.Now = marks, day(10, 9, 0)
	st = offsite.Fold(in)
	if a, _ := st.Get("a"); a.Away || a.By != "田中" || !st.AllHomeSince.Equal(day(3, 9, 0)) || st.Lapsed {
		t.Fatalf("back: %+v %+v", a, st)
	}
	in.Now = day(10, 9, 1)
	if st = offsite.Fold(in); !st.Lapsed || !st.LapsesAt().Equal(day(10, 9, 0)) {
		t.Fatalf("home longer than 7 days: %+v", st)
	}
	cfg.Offsite.Expected = false
	if st = offsite.Fold(in); st.Lapsed {
		t.Fatal("a lapse without an expected rotation")
	}
	// Never away: counted from the first snapshot.
	cfg.Offsite.Expected = true
	in.Marks, in.Now = nil, day(8, 2, 11)
	if st = offsite.Fold(in); !st.Lapsed || !st.AllHomeSince.Equal(day(1, 2, 10)) {
		t.Fatalf("never away: %+v", st)
	}
}
