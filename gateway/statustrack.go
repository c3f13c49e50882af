package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/status"
)

// The status the page, its live view and /metrics show is kept by a
// status.Tracker that every stored entry feeds, so no request reads the
// ledger; the whole chain is verified once a day instead, off-peak.

// verifySchedule is when the whole ledger is verified, in the gateway's
// time zone: at night, after the usual cycle time.
const verifySchedule = "daily 03:30"

// openLedger opens the evidence ledger with a status tracker fed by every
// entry stored in it. Open checks the chain from the tracker's checkpoint
// on (all of it when there is none). clock stamps each entry with how the
// clock was set (nil: nothing).
func openLedger(dir string, log *slog.Logger, clock func() ledger.ClockState) (*ledger.Ledger, *status.Tracker, error) {
	tr := status.NewTracker(dir, status.TrackerOptions{Logger: log})
	led, err := ledger.OpenWith(dir, tr.Hook(ledger.Options{Logger: log, Clock: clock}))
	if err != nil {
		return nil, nil, err
	}
	tr.Start()
	return led, tr, nil
}

// closeLedger closes the ledger, then writes the tracker's checkpoint.
func (g *Gateway) closeLedger() error {
	return errors.Join(g.ledger.Close(), g.tracker.Close())
}

// leftOpenAtStart is what the previous run left unfinished, as the
// tracker has it: a start reads nothing of the ledger for it.
func (g *Gateway) leftOpenAtStart() leftOpen {
	u := g.tracker.Unfinished()
	return leftOpen{cycle: u.Cycle, media: u.Media, sendBack: u.SendBack}
}

// RunLedgerVerifySchedule verifies the whole ledger daily at 03:30 (in
// the configured time zone) until ctx ends; one verification stands for
// any the device slept through.
func (g *Gateway) RunLedgerVerifySchedule(ctx context.Context, clock Clock) error {
	return g.every(ctx, clock, loop{
		spec: func(*config.Config) string { return verifySchedule },
		run: func(ctx context.Context) {
			if _, err := g.VerifyLedger(ctx); err != nil && ctx.Err() == nil {
				g.log.Error("evidence ledger verification", "err", err)
			}
		},
		missed: func(int, time.Time, time.Time) {},
		next:   func(time.Time) {},
	})
}

// VerifyLedger verifies the whole ledger once no job runs (no job starts
// meanwhile) and records the outcome in it. A failure raises the
// ledger_failed alert and shows on the page until a verification passes.
func (g *Gateway) VerifyLedger(ctx context.Context) (ledger.Report, error) {
	for !g.job.TryLock() {
		select {
		case <-ctx.Done():
			return ledger.Report{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	defer g.job.Unlock()
	start := time.Now()
	rep, err := g.tracker.Verify()
	g.recordVerification(rep, err, time.Since(start))
	return rep, err
}

// recordVerification writes a full verification's outcome to the ledger
// and raises or clears the alert.
func (g *Gateway) recordVerification(rep ledger.Report, err error, took time.Duration) {
	now := time.Now()
	d := ledger.LedgerVerifiedData{OK: err == nil, Entries: rep.Entries, LastSeq: rep.LastSeq, LastHash: rep.LastHash,
		DurationMS: took.Milliseconds()}
	text := msg.Sprintf("証跡台帳を全件検証しました: 正常(%d 件、%.1f 秒)", "the evidence ledger was verified in full: OK (%d entries, %.1f s)",
		rep.Entries, took.Seconds())
	a := alert.LedgerFailed(g.Config().GatewayID, now, msg.Text{})
	if err == nil {
		g.send(a.Resolve(now))
	} else {
		d.Problem = msg.TextOf(err)
		if len(rep.Problems) > 0 {
			d.Problem = rep.Problems[0].Message
		}
		text = msg.Sprintf("証跡台帳の全件検証で異常が見つかりました: %s", "the full verification of the evidence ledger failed: %s", d.Problem)
		a.Detail = msg.TextOf(err)
		g.send(a)
	}
	g.record(ledger.Entry{Kind: ledger.KindLedgerVerified, Message: text, Payload: d})
}
