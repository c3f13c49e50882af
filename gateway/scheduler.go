package gateway

import (
	"context"
	"github.com/danzen-gw/danzen/internal/msg"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/schedule"
)

// maxSleep bounds each wait so a wall-clock jump (NTP after boot, a
// manual correction) is noticed within a minute: Go timers follow the
// monotonic clock, not the wall clock the schedule is written in.
const maxSleep = time.Minute

// Clock is the wall clock the schedule follows; tests move it by hand.
type Clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RunSchedule runs cycles at the configured schedule's due times until
// ctx ends. The schedule and time zone are re-read at every wake-up, so a
// change on the page takes effect without a restart. When several due
// times passed at once (clock jumped forward, or a cycle ran long), one
// cycle runs and the skipped ones are recorded. A clock set backwards
// simply moves the next due time.
func (g *Gateway) RunSchedule(ctx context.Context, clock Clock, events func(backup.CycleEvent)) error {
	return g.every(ctx, clock, loop{
		spec: func(c *config.Config) string { return c.Schedule },
		run: func(ctx context.Context) {
			if rep, err := g.RunCycle(ctx, events); err != nil {
				g.log.Error("cycle failed", "err", err, "ok", rep != nil && rep.OK())
			}
		},
		missed: func(n int, due, now time.Time) {
			g.record(ledger.Entry{Kind: ledger.KindCycleMissed, Message: msg.T("予定のサイクルが実行されませんでした", "scheduled cycles did not run"),
				Payload: ledger.MissedData{Missed: n, FirstDue: due, Now: now}})
			g.send(alert.CycleMissed(g.Config().GatewayID, now, due))
		},
		next: g.setNext,
	})
}

// RunDrillSchedule runs the restore drill at restore.drill_schedule (an
// empty schedule means drills are started by hand only; a schedule set
// later on the page is picked up within a minute).
func (g *Gateway) RunDrillSchedule(ctx context.Context, clock Clock) error {
	return g.every(ctx, clock, loop{
		spec: func(c *config.Config) string { return c.Restore.DrillSchedule },
		run: func(ctx context.Context) {
			if _, err := g.Drill(ctx, "", ledger.ActorSystem, nil); err != nil {
				g.log.Error("scheduled drill failed", "err", err)
			}
		},
		missed: func(n int, due, now time.Time) {
			g.record(ledger.Entry{Kind: ledger.KindDrillMissed, Message: msg.T("予定の復元訓練が実行されませんでした", "scheduled drills did not run"),
				Payload: ledger.MissedData{Missed: n, FirstDue: due, Now: now}})
		},
		next: func(time.Time) {},
	})
}

// loop is one scheduled job.
type loop struct {
	spec   func(*config.Config) string // "" = not scheduled
	run    func(ctx context.Context)
	missed func(n int, firstDue, now time.Time)
	next   func(time.Time)
}

func (g *Gateway) every(ctx context.Context, clock Clock, l loop) error {
	if clock == nil {
		clock = realClock{}
	}
	var (
		spec, zone string
		s          *schedule.Schedule
		loc        *time.Location
		next       time.Time
		ran        time.Time // the due time run last
	)
	// load (re)reads the schedule; it reports whether it changed.
	load := func() (bool, error) {
		cfg := g.Config()
		if l.spec(cfg) == spec && cfg.TimeZone == zone && (s != nil || spec == "") && loc != nil {
			return false, nil
		}
		nl, err := time.LoadLocation(cfg.TimeZone)
		if err != nil {
			return false, err
		}
		var ns *schedule.Schedule
		if l.spec(cfg) != "" {
			if ns, err = schedule.Parse(l.spec(cfg)); err != nil {
				return false, err
			}
		}
		spec, zone, s, loc = l.spec(cfg), cfg.TimeZone, ns, nl
		return true, nil
	}
	now := func() time.Time { return clock.Now().In(loc) }
	// plan sets the next due time (zero when nothing is scheduled).
	plan := func(from time.Time) {
		next = time.Time{}
		if s != nil {
			next = s.Next(from)
			// A clock set back across a due time that has run: that
			// slot is done. Further back than a day is a clock that was
			// wrong (an RTC reset), whose slots are real.
			if !ran.IsZero() && !next.After(ran) && ran.Sub(next) < 24*time.Hour {
				next = s.Next(ran)
			}
		}
		l.next(next)
	}
	if _, err := load(); err != nil {
		return err
	}
	plan(now())
	for {
		if changed, err := load(); err != nil {
			g.log.Error("schedule unreadable, keeping the previous one", "err", err)
		} else if changed {
			plan(now())
		}
		t := now()
		if next.IsZero() || t.Before(next) {
			if !next.IsZero() && next.Sub(t) > 25*time.Hour && s.Next(t).Before(next) {
				plan(t) // the clock went backwards
			}
			wait := maxSleep
			if !next.IsZero() {
				wait = min(next.Sub(t), maxSleep)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clock.After(wait):
			}
			continue
		}
		missed := 0
		for n := s.Next(next); !n.After(t); n = s.Next(n) {
			missed++
		}
		if missed > 0 {
			l.missed(missed, next, t)
		}
		ran = next
		l.run(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		plan(now())
	}
}

func (g *Gateway) setNext(t time.Time) {
	g.nextMu.Lock()
	g.next = t
	g.nextMu.Unlock()
}

// NextCycle is when the scheduler runs the next cycle (zero if none).
func (g *Gateway) NextCycle() time.Time {
	g.nextMu.Lock()
	defer g.nextMu.Unlock()
	return g.next
}
