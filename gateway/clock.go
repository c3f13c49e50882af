package gateway

import (
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// TimeSync is how the gateway's clock is set (a *clock.Clock on the
// appliance). Without one (a bench PC, tests) the host keeps its own
// time and ledger entries record no clock state.
type TimeSync interface {
	// State is the clock's state now; every ledger entry records it.
	State() ledger.ClockState
	Status() clock.Status
	// Kick asks the time servers at once (they were changed).
	Kick()
}

// clockState is what the ledger stamps each entry with (nil: nothing).
func (o Options) clockState() func() ledger.ClockState {
	if o.TimeSync == nil {
		return nil
	}
	return o.TimeSync.State
}

// ClockStatus is the clock as the page shows it; false when the gateway
// does not keep the time itself (a bench PC).
func (g *Gateway) ClockStatus() (clock.Status, bool) {
	if g.opts.TimeSync == nil {
		return clock.Status{}, false
	}
	return g.opts.TimeSync.Status(), true
}

// ClockChanged records a change of the clock's state (and the start's
// first decision) in the ledger, and raises the "time not synchronised"
// alert until NTP sets the clock.
func (g *Gateway) ClockChanged(ch clock.Change) {
	now := time.Now()
	g.record(ledger.Entry{Kind: ledger.KindClock, Message: ch.Why,
		Payload: ledger.ClockData{State: ch.To, Source: ch.Source, OffsetMS: ch.Offset.Milliseconds()}})
	a := alert.ClockUnsynced(g.Config().GatewayID, now, ch.Why, msg.Text{})
	if ch.To == ledger.ClockNTP {
		g.send(a.Resolve(now)) // announced only where it was raised
		return
	}
	if g.opts.TimeSync != nil {
		a.Detail = g.opts.TimeSync.Status().Problem
	}
	g.send(a)
}
