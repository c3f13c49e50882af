package gateway_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// stepClock jumps through a script of wall-clock readings: each After
// returns at once and moves to the next reading, as a clock that NTP
// corrects or an operator sets would.
type stepClock struct {
	mu    sync.Mutex
	times []time.Time
	i     int
	done  func()
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.times[c.i]
}

func (c *stepClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if c.i+1 < len(c.times) {
		c.i++
		ch <- c.times[c.i]
	} else {
		c.done()
	}
	return ch
}

func TestScheduleRunsDueCyclesAndRecordsMissedOnes(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "s"), filepath.Join(dir, "k"), filepath.Join(dir, "l")
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	jst := time.FixedZone("JST", 9*3600)
	d := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, jst) }
	ctx, cancel := context.WithCancel(context.Background())
	clock := &stepClock{done: cancel, times: []time.Time{
		d(26, 1, 0),  // start: next is 26th 02:00
		d(26, 1, 30), // not yet
		d(26, 2, 0),  // due: cycle 1
		d(26, 2, 1),  // after the cycle: next is 27th
		d(29, 3, 0),  // clock jumps three days: one cycle, 2 missed recorded
		d(29, 3, 1),
		d(29, 3, 2), // the scheduler's next is 30th 02:00
		d(20, 0, 0), // clock set back by nine days: next follows it
	}}
	err = g.RunSchedule(ctx, clock, func(backup.CycleEvent) {})
	if err != context.Canceled {
		t.Fatalf("RunSchedule: %v", err)
	}
	entries, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCycleStart, ledger.KindCycleMissed}})
	if err != nil {
		t.Fatal(err)
	}
	var cycles, missed int
	for _, e := range entries {
		switch e.Kind {
		case ledger.KindCycleStart:
			cycles++
		case ledger.KindCycleMissed:
			m, _ := ledger.Decode[ledger.MissedData](e)
			missed += m.Missed
		}
	}
	if cycles != 2 || missed != 2 {
		t.Fatalf("%d cycles, %d missed; want 2 and 2", cycles, missed)
	}
	if got := g.NextCycle(); !got.Equal(d(20, 2, 0)) {
		t.Fatalf("after the clock went back, next = %s, want the 20th 02:00", got)
	}
}

// The appliance's clock runs in UTC; "daily 02:00" means 02:00 in Japan.
func TestScheduleReadsTheConfiguredZone(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "s"), filepath.Join(dir, "k"), filepath.Join(dir, "l")
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	utc := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, time.UTC) }
	ctx, cancel := context.WithCancel(context.Background())
	clock := &stepClock{done: cancel, times: []time.Time{utc(25, 16, 30), utc(25, 17, 0), utc(25, 17, 1)}}
	if err := g.RunSchedule(ctx, clock, nil); err != context.Canceled {
		t.Fatal(err)
	}
	entries, _ := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCycleStart}})
	if len(entries) != 1 {
		t.Fatalf("%d cycles at 17:00 UTC (02:00 JST), want 1", len(entries))
	}
	if next := g.NextCycle(); !next.Equal(utc(26, 17, 0)) {
		t.Fatalf("next = %s, want 17:00 UTC the next day", next.UTC())
	}
}
