package faults_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// handClock is the wall clock of a scheduler the test drives by hand.
// Every wait of the scheduler hands control back: set moves the clock to
// a reading (a jump forwards or backwards), wakes the scheduler and
// returns once it has acted on it (run a cycle, or not) and waits again.
type handClock struct {
	mu   sync.Mutex
	now  time.Time
	wake chan time.Time
	idle chan struct{}
}

func newHandClock(start time.Time) *handClock {
	return &handClock{now: start, wake: make(chan time.Time), idle: make(chan struct{})}
}

func (c *handClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *handClock) After(time.Duration) <-chan time.Time {
	c.idle <- struct{}{}
	return c.wake
}

func (c *handClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
	c.wake <- t
	<-c.idle
}

// schedule runs the gateway's scheduler on a hand clock from start; the
// returned stop ends it.
func (s *scenario) schedule(t *testing.T, start time.Time) (*handClock, *gateway.Gateway, func()) {
	t.Helper()
	g, err := gateway.Open(context.Background(), s.cfg, gateway.Options{RelaySources: s.w.sources(t)})
	if err != nil {
		t.Fatal(err)
	}
	clock := newHandClock(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.RunSchedule(ctx, clock, nil) }()
	<-clock.idle // planned, waiting
	return clock, g, func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("RunSchedule: %v", err)
		}
		closeGateway(t, g)
	}
}

// scheduled returns the ledger's cycle starts and ends and missed due
// times.
func scheduled(t *testing.T, dir string) []ledger.Entry {
	t.Helper()
	ents, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCycleStart, ledger.KindCycleEnd, ledger.KindCycleMissed}})
	if err != nil {
		t.Fatal(err)
	}
	return ents
}

// cyclesAndMissed counts the cycles in ents, the failed ones, and the due
// times recorded as missed.
func cyclesAndMissed(ents []ledger.Entry) (cycles, failed, missed int) {
	for _, e := range ents {
		switch e.Kind {
		case ledger.KindCycleStart:
			cycles++
		case ledger.KindCycleEnd:
			if d, err := ledger.Decode[ledger.CycleEndData](e); err != nil || !d.OK {
				failed++
			}
		case ledger.KindCycleMissed:
			d, _ := ledger.Decode[ledger.MissedData](e)
			missed += d.Missed
		}
	}
	return cycles, failed, missed
}

// TestClockJumps moves the gateway's wall clock across its nightly
// schedule ("daily 02:00", Japan): a due time runs exactly once, however
// the clock jumps, and due times jumped over are recorded and alerted.
func TestClockJumps(t *testing.T) {
	w := newWorldWith(t, smallExport, 32<<20)
	s := w.scenario(t)
	s.cfg.Schedule, s.cfg.TimeZone = "daily 02:00", "Asia/Tokyo"
	jst := time.FixedZone("JST", 9*3600)
	d := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, jst) }
	// count asserts the cycles and missed due times since the ledger's
	// entry from.
	count := func(t *testing.T, from, wantCycles, wantMissed int) {
		t.Helper()
		c, f, m := cyclesAndMissed(scheduled(t, s.cfg.LedgerDir)[from:])
		if c != wantCycles || m != wantMissed || f != 0 {
			t.Errorf("%d cycles (%d failed), %d missed; want %d cycles, %d missed", c, f, m, wantCycles, wantMissed)
		}
	}
	mark := func() int { return len(scheduled(t, s.cfg.LedgerDir)) }

	t.Run("forwards", func(t *testing.T) {
		res := s.fault("clock jumps forwards over the schedule", "schedule")
		from := mark()
		clock, g, stop := s.schedule(t, d(26, 1, 59))
		clock.set(d(26, 2, 30)) // over 02:00: that cycle runs, late
		count(t, from, 1, 0)
		clock.set(d(26, 2, 31))
		clock.set(d(29, 3, 0)) // three days on: one cycle, two due times missed
		clock.set(d(29, 3, 1))
		count(t, from, 2, 2)
		if next := g.NextCycle(); !next.Equal(d(30, 2, 0)) {
			t.Errorf("next cycle %s, want the 30th 02:00", next)
		}
		stop()
		if len(s.alerts.firing(string(alert.KindCycleMissed))) != 1 {
			t.Errorf("the missed cycles were not alerted once: %v", s.alerts.got)
		}
		w.finish(t, &res, false)
	})

	t.Run("backwards", func(t *testing.T) {
		res := s.fault("clock jumps backwards over the schedule", "schedule")
		from := mark()
		clock, g, stop := s.schedule(t, d(26, 1, 59))
		clock.set(d(26, 2, 0)) // due: the cycle runs
		clock.set(d(26, 2, 10))
		count(t, from, 1, 0)
		clock.set(d(26, 1, 45)) // NTP sets a fast clock back 25 minutes
		clock.set(d(26, 2, 0))  // 02:00 again: it ran already
		clock.set(d(26, 2, 5))
		count(t, from, 1, 0)
		if next := g.NextCycle(); !next.Equal(d(27, 2, 0)) {
			t.Errorf("next cycle %s, want the 27th 02:00", next)
		}
		clock.set(d(27, 2, 0)) // and the schedule goes on
		clock.set(d(27, 2, 1))
		count(t, from, 2, 0)
		clock.set(d(27, 0, 30)) // set back 1 h 31 min, over 02:00 again
		clock.set(d(27, 2, 0))
		clock.set(d(27, 2, 5))
		count(t, from, 2, 0)
		if next := g.NextCycle(); !next.Equal(d(28, 2, 0)) {
			t.Errorf("after a clock set back 1.5 h: next cycle %s, want the 28th 02:00", next)
		}
		stop()
		if n := len(s.alerts.firing(string(alert.KindCycleMissed))); n != 0 {
			t.Errorf("%d cycle_missed alerts for a clock set back", n)
		}
		w.finish(t, &res, false)
	})
}
