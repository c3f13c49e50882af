package gateway

import (
	"context"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
)

// stagingLowFraction: below this share of free space on staging, the next
// night's pull may not fit.
const stagingLowFraction = 0.10

// newNotifier builds the alert channels of cfg; nil when none is set.
func (g *Gateway) newNotifier(cfg *config.Config) (*alert.Notifier, error) {
	if !cfg.Alerts.Enabled() {
		return nil, nil
	}
	// Beside the ledger, in the state directory: an alert announced before
	// a restart is still announced as cleared after it.
	return alert.New(cfg.Alerts, alert.Options{SecretsDir: cfg.SecretsDir, Logger: g.log, Zone: when.Of(cfg.TimeZone),
		StateFile: filepath.Join(filepath.Dir(cfg.LedgerDir), "alerts.json")})
}

// send delivers an alert in the background, so a slow mail server never
// holds a medium powered; a delivery that fails is itself recorded.
func (g *Gateway) send(a alert.Alert) {
	n := g.notifier.Load()
	if n == nil {
		return
	}
	g.alerts.Add(1)
	go func() {
		defer g.alerts.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := n.Send(ctx, a); err != nil {
			g.log.Error("alert not delivered", "kind", a.Kind, "err", err)
			g.record(ledger.Entry{Kind: ledger.KindAlertFailed, Medium: a.Medium, Message: msg.TextOf(err),
				Payload: ledger.AlertFailedData{Alert: string(a.Kind), Key: a.Key}})
		}
	}()
}

// alertCycle reports what a cycle's result calls for, and clears what it
// shows is mended.
func (g *Gateway) alertCycle(r *backup.CycleReport, err error) {
	cfg := g.Config()
	now := time.Now()
	if r == nil {
		if err != nil {
			g.send(alert.CycleFailed(cfg.GatewayID, "", now, msg.TextOf(err)))
		}
		return
	}
	// A failure clears with the next good pull or medium: the failure
	// after that is news again, whatever the repeat interval.
	if r.PullErr != nil {
		g.send(alert.CycleFailed(cfg.GatewayID, "", now, msg.TextOf(r.PullErr)))
	} else {
		g.send(alert.CycleFailed(cfg.GatewayID, "", now, msg.Text{}).Resolve(now))
	}
	g.alertAnomalies(r)
	g.alertPulls(r, now)
	for _, m := range r.Media {
		notOff := alert.MediumNotOff(cfg.GatewayID, m.Name, now, m.CutReason)
		switch {
		case !m.CutVerified && !m.Simulated:
			g.send(notOff)
		case m.CutVerified:
			g.send(notOff.Resolve(now))
		}
		if m.Err != nil {
			g.send(alert.CycleFailed(cfg.GatewayID, m.Name, now, msg.TextOf(m.Err)))
		} else {
			g.send(alert.CycleFailed(cfg.GatewayID, m.Name, now, msg.Text{}).Resolve(now))
		}
	}
	g.alertLedgerRoom(now)
	var st unix.Statfs_t
	if unix.Statfs(cfg.StagingDir, &st) == nil && st.Blocks > 0 {
		free, total := st.Bavail*uint64(st.Bsize), st.Blocks*uint64(st.Bsize)
		if float64(free) < stagingLowFraction*float64(total) {
			g.send(alert.StagingLow(cfg.GatewayID, now, free, total))
		}
	}
}

// alertLedgerRoom alerts while the ledger's disk has no room for its
// reserve (no medium is powered then), and clears the alert once it has.
func (g *Gateway) alertLedgerRoom(now time.Time) {
	a := alert.LedgerFull(g.Config().GatewayID, now, msg.Text{})
	if err := g.ledger.Room(); err != nil {
		a.Detail = msg.TextOf(err)
		g.send(a)
		return
	}
	g.send(a.Resolve(now))
}

// ReportFault records a fault found outside any job (a damaged
// configuration at start, …) in the ledger and alerts it like a failed
// cycle, so somebody looks.
func (g *Gateway) ReportFault(ctx context.Context, kind ledger.Kind, err error) {
	g.record(ledger.Entry{Kind: kind, Message: msg.TextOf(err)})
	g.send(alert.CycleFailed(g.Config().GatewayID, "", time.Now(), msg.TextOf(err)))
}

// AlertsProblem says why no alert can be sent, for the page; empty when
// the alert channels are open (or none is configured).
func (g *Gateway) AlertsProblem() msg.Text {
	if t := g.alertsDown.Load(); t != nil {
		return *t
	}
	return msg.Text{}
}
