package gateway

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/schedule"
)

// KindCycleMissed records due times that passed without a cycle (the
// gateway was off, or the clock jumped).
const KindCycleMissed = "cycle.missed"

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
	if clock == nil {
		clock = realClock{}
	}
	var (
		spec, zone string
		s          *schedule.Schedule
		loc        *time.Location
		next       time.Time
	)
	// load (re)reads the schedule; it reports whether it changed.
	load := func() (bool, error) {
		cfg := g.Config()
		if cfg.Schedule == spec && cfg.TimeZone == zone {
			return false, nil
		}
		ns, err := schedule.Parse(cfg.Schedule)
		if err != nil {
			return false, err
		}
		nl, err := time.LoadLocation(cfg.TimeZone)
		if err != nil {
			return false, err
		}
		spec, zone, s, loc = cfg.Schedule, cfg.TimeZone, ns, nl
		return true, nil
	}
	now := func() time.Time { return clock.Now().In(loc) }
	if _, err := load(); err != nil {
		return err
	}
	next = s.Next(now())
	g.setNext(next)
	for {
		if changed, err := load(); err != nil {
			g.log.Error("schedule unreadable, keeping the previous one", "err", err)
		} else if changed {
			next = s.Next(now())
			g.setNext(next)
		}
		t := now()
		if t.Before(next) {
			if next.Sub(t) > 25*time.Hour && s.Next(t).Before(next) {
				next = s.Next(t) // the clock went backwards
				g.setNext(next)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clock.After(min(next.Sub(t), maxSleep)):
			}
			continue
		}
		missed := 0
		for n := s.Next(next); !n.After(t); n = s.Next(n) {
			missed++
		}
		if missed > 0 {
			g.record(ledger.Entry{Kind: KindCycleMissed, Message: "予定のサイクルが実行されませんでした / scheduled cycles did not run",
				Data: mustJSON(map[string]any{"missed": missed, "first_due": next, "now": t})})
			g.send(alert.CycleMissed(g.Config().GatewayID, t, next))
		}
		if rep, err := g.RunCycle(ctx, events); err != nil {
			g.log.Error("cycle failed", "err", err, "ok", rep != nil && rep.OK())
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next = s.Next(now())
		g.setNext(next)
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
