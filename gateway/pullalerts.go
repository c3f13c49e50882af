package gateway

import (
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/ledger"
)

// pullHistory is how far back the ledger's pull records are read to
// judge a pull: far enough for an export that stays shrunk for weeks.
const pullHistory = 90 * 24 * time.Hour

// alertPulls raises, for each source pulled by the cycle, what its pull
// calls for, and clears what it shows mended. The previous pulls are the
// ledger's records; a pull that failed is judged by no one (the failed
// cycle is alerted instead).
func (g *Gateway) alertPulls(r *backup.CycleReport, now time.Time) {
	if g.notifier.Load() == nil {
		return // nobody to tell: the ledger need not be read
	}
	cfg := g.Config()
	past, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindPull}, From: now.Add(-pullHistory)})
	if err != nil {
		// Judged on this pull alone: every refusal counts as new.
		g.log.Error("pull records unreadable: pulls judged without their history", "err", err)
	}
	for _, cur := range r.PullRecords {
		src, err := cfg.Source(cur.Source)
		if !cur.OK || err != nil {
			continue
		}
		var history []ledger.PullData
		for _, e := range past {
			d, err := ledger.Decode[ledger.PullData](e)
			if err == nil && d.OK && d.Source == cur.Source && d.Cycle != r.ID {
				history = append(history, d)
			}
		}
		g.alertPull(backup.AssessPulls(append(history, cur), src.DropAlertPercent), src.DropAlertPercent, now)
	}
}

// alertPull sends each of one source's pull alerts, or its clearing.
func (g *Gateway) alertPull(pc backup.PullConcerns, percent int, now time.Time) {
	id := g.Config().GatewayID
	refused := alert.PullRefused(id, pc.Source, now, pc.NewlyRefused)
	switch {
	case len(pc.NewlyRefused) > 0:
		g.send(refused)
	case !pc.Refused:
		g.send(refused.Resolve(now))
	}
	g.raise(alert.PullPending(id, pc.Source, now, pc.StillPending), len(pc.StillPending) > 0, now)
	g.raise(alert.PullEmpty(id, pc.Source, now), pc.NothingComplete, now)
	g.raise(alert.PullDropped(id, pc.Source, now, percent, pc.Before.Files, pc.After.Files, pc.Before.Bytes, pc.After.Bytes), pc.Dropped, now)
}

// raise sends a while its condition holds, and its clearing once not.
func (g *Gateway) raise(a alert.Alert, holds bool, now time.Time) {
	if holds {
		g.send(a)
		return
	}
	g.send(a.Resolve(now))
}
