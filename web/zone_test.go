package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/when/whentest"
	"github.com/danzen-gw/danzen/ledger"
)

// stoppedClock is a wall clock that stands still: the scheduler plans
// from it and then waits for ever.
type stoppedClock struct{ now time.Time }

func (c stoppedClock) Now() time.Time                       { return c.now }
func (c stoppedClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

// TestPageShowsTimesInTheHospitalsZone runs the page as on the appliance
// (no TZ: the process's Local zone is UTC) with "daily 02:00" in
// Asia/Tokyo: the next cycle reads 02:00 JST, not 17:00, and the ledger's
// times read in JST too.
func TestPageShowsTimesInTheHospitalsZone(t *testing.T) {
	whentest.LocalUTC(t)
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		cfg.Schedule, cfg.TimeZone = "daily 02:00", "Asia/Tokyo"
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.g.RunSchedule(ctx, stoppedClock{time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("RunSchedule: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); e.g.NextCycle().IsZero(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler planned no cycle")
		}
	}
	c := e.login("admin", adminPW)
	if page := c.get("/").body; !strings.Contains(page, "2026-12-07 02:00:00 JST") {
		t.Errorf("the dashboard's next cycle is not 02:00 JST:\n%s", between(page, "次回", 200))
	}

	entries, err := ledger.Read(e.cfg.LedgerDir, ledger.Filter{})
	if err != nil || len(entries) == 0 {
		t.Fatalf("ledger: %d entries, %v", len(entries), err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	page := c.get("/ledger").body
	for _, en := range entries {
		if want := en.Time.In(tokyo).Format(time.DateTime) + " JST"; !strings.Contains(page, want) {
			t.Errorf("the ledger page lacks entry %d's time %q", en.Seq, want)
		}
	}
}

// between is up to n bytes of s from the first mark on (all of s when
// the mark is absent), to keep a failure's output short.
func between(s, mark string, n int) string {
	i := max(strings.Index(s, mark), 0)
	return s[i:min(len(s), i+n)]
}
