package gateway

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// OpenAnomalies lists the source anomalies nobody has acknowledged; while
// there is one, no medium is pruned.
func (g *Gateway) OpenAnomalies() ([]backup.Anomaly, error) {
	return backup.OpenAnomalies(g.Config().StagingDir)
}

// AcknowledgeAnomaly closes anomaly id for actor, which resumes pruning
// once no other is open. The acknowledgement is recorded first: a record
// without the state change leaves pruning paused, the safe way round.
func (g *Gateway) AcknowledgeAnomaly(ctx context.Context, id, actor string) error {
	open, err := g.OpenAnomalies()
	if err != nil {
		return err
	}
	var a *backup.Anomaly
	for i := range open {
		if open[i].ID == id {
			a = &open[i]
		}
	}
	if a == nil {
		_, err := backup.AcknowledgeAnomaly(g.Config().StagingDir, id, actor, time.Now()) // ErrNoAnomaly, worded
		return err
	}
	now := time.Now()
	a.AckedBy, a.AckedAt = actor, now
	if err := g.Record(ctx, ledger.Entry{Kind: ledger.KindAnomalyAck, Actor: actor,
		Message: msg.T("確認済み: ", "acknowledged: ").Append("", a.Summary()), Payload: *a}); err != nil {
		return err
	}
	if _, err := backup.AcknowledgeAnomaly(g.Config().StagingDir, id, actor, now); err != nil {
		return err
	}
	cfg := g.Config()
	g.send(alert.SourceAnomaly(cfg.GatewayID, a.Source, a.ID, a.Detected, msg.Text{}).Resolve(now))
	return nil
}

// alertAnomalies announces each anomaly a cycle flagged.
func (g *Gateway) alertAnomalies(r *backup.CycleReport) {
	cfg := g.Config()
	for _, a := range r.Anomalies {
		g.send(alert.SourceAnomaly(cfg.GatewayID, a.Source, a.ID, a.Detected, a.Summary()))
	}
}
