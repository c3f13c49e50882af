package gateway

import (
	"context"
	"sync"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// ErrBusy: another job holds the gateway; jobs never overlap, because two
// of them could power two media at once or fight over one.
var ErrBusy = msg.New("別の処理を実行中です。終わってからやり直してください", "another job is running: try again when it has finished")

// hub fans cycle events out to the page's live views. A slow subscriber
// loses events rather than slowing the cycle down.
type hub struct {
	mu   sync.Mutex
	subs map[chan backup.CycleEvent]struct{}
	last *backup.CycleEvent
}

func (h *hub) publish(ev backup.CycleEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = &ev
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// Subscribe returns a channel of cycle events and a function that ends
// the subscription.
func (g *Gateway) Subscribe() (<-chan backup.CycleEvent, func()) {
	ch := make(chan backup.CycleEvent, 64)
	g.events.mu.Lock()
	if g.events.subs == nil {
		g.events.subs = map[chan backup.CycleEvent]struct{}{}
	}
	g.events.subs[ch] = struct{}{}
	g.events.mu.Unlock()
	return ch, func() {
		g.events.mu.Lock()
		delete(g.events.subs, ch)
		g.events.mu.Unlock()
	}
}

// Running reports whether a job is running and its latest event.
func (g *Gateway) Running() (bool, *backup.CycleEvent) {
	g.events.mu.Lock()
	defer g.events.mu.Unlock()
	if !g.busy {
		return false, nil
	}
	return true, g.events.last
}

// StartCycle runs a cycle in the background (the page's "run now"). It
// refuses at once if another job is running. actor is recorded.
func (g *Gateway) StartCycle(ctx context.Context, actor string) error {
	if !g.job.TryLock() {
		return ErrBusy
	}
	g.record(ledger.Entry{Kind: ledger.KindJobStart, Actor: actor, Message: msg.T("サイクルを手動で開始", "cycle started by hand")})
	go func() {
		defer g.job.Unlock()
		if _, err := g.runCycleLocked(context.WithoutCancel(ctx), nil); err != nil {
			g.log.Error("manual cycle", "err", err)
		}
	}()
	return nil
}
