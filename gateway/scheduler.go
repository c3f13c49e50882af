package gateway

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
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
			g.send(alert.CycleMissed(g.Config().GatewayID, now, due, when.Of(g.Config().TimeZone)))
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

// every runs l at its schedule's due times until ctx ends.
func (g *Gateway) every(ctx context.Context, clock Clock, l loop) error {
	if clock == nil {
		clock = realClock{}
	}
	st := &scheduleState{l: l}
	if _, err := st.load(g.Config()); err != nil {
		return err
	}
	now := func() time.Time { return clock.Now().In(st.loc) }
	st.plan(now())
	for {
		if changed, err := st.load(g.Config()); err != nil {
			g.log.Error("schedule unreadable, keeping the previous one", "err", err)
		} else if changed {
			st.plan(now())
		}
		t := now()
		if !st.due(t) {
			if err := st.sleep(ctx, clock, t); err != nil {
				return err
			}
			continue
		}
		st.runDue(ctx, t)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st.plan(now())
	}
}

// scheduleState is a scheduled loop's view of its schedule.
type scheduleState struct {
	l          loop
	spec, zone string             // as last loaded
	s          *schedule.Schedule // nil: not scheduled
	loc        *time.Location
	next       time.Time // the next due time; zero when nothing is scheduled
	ran        time.Time // the due time run last
}

// load (re)reads the schedule and time zone from cfg; it reports whether
// they changed.
func (st *scheduleState) load(cfg *config.Config) (bool, error) {
	spec := st.l.spec(cfg)
	if spec == st.spec && cfg.TimeZone == st.zone && (st.s != nil || spec == "") && st.loc != nil {
		return false, nil
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return false, err
	}
	var s *schedule.Schedule
	if spec != "" {
		if s, err = schedule.Parse(spec); err != nil {
			return false, err
		}
	}
	st.spec, st.zone, st.s, st.loc = spec, cfg.TimeZone, s, loc
	return true, nil
}

// plan sets the next due time after from (zero when nothing is
// scheduled) and announces it.
func (st *scheduleState) plan(from time.Time) {
	st.next = time.Time{}
	if st.s != nil {
		st.next = st.s.Next(from)
		// A clock set back across a due time that has run: that slot is
		// done. Further back than a day is a clock that was wrong (an RTC
		// reset), whose slots are real.
		if !st.ran.IsZero() && !st.next.After(st.ran) && st.ran.Sub(st.next) < 24*time.Hour {
			st.next = st.s.Next(st.ran)
		}
	}
	st.l.next(st.next)
}

// due reports whether the next due time has come by t.
func (st *scheduleState) due(t time.Time) bool { return !st.next.IsZero() && !t.Before(st.next) }

// sleep waits until the next due time, or maxSleep at most; a clock that
// went backwards plans again first.
func (st *scheduleState) sleep(ctx context.Context, clock Clock, t time.Time) error {
	if !st.next.IsZero() && st.next.Sub(t) > 25*time.Hour && st.s.Next(t).Before(st.next) {
		st.plan(t)
	}
	wait := maxSleep
	if !st.next.IsZero() {
		wait = min(st.next.Sub(t), maxSleep)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(wait):
		return nil
	}
}

// runDue runs the job once for the due time that came, and reports the
// later due times that also passed by t (a clock jump, a long run).
func (st *scheduleState) runDue(ctx context.Context, t time.Time) {
	missed := 0
	for n := st.s.Next(st.next); !n.After(t); n = st.s.Next(n) {
		missed++
	}
	if missed > 0 {
		st.l.missed(missed, st.next, t)
	}
	st.ran = st.next
	st.l.run(ctx)
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
