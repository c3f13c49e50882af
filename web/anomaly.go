package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
)

// anomalies is what the anomaly page needs; *gateway.Gateway has it.
type anomalies interface {
	OpenAnomalies() ([]backup.Anomaly, error)
	AcknowledgeAnomaly(ctx context.Context, id, actor string) error
}

type anomalyRow struct {
	ID, Source, Detected string
	Ratio, Entropy       string
	Reasons              []msg.Text
}

type anomalyView struct {
	Rows   []anomalyRow
	CanAck bool
}

// anomalyPage lists the flagged exports nobody has acknowledged; while
// one is listed, no medium is pruned.
func (s *Server) anomalyPage(w http.ResponseWriter, r *http.Request) {
	open, err := s.core.OpenAnomalies()
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/")
		return
	}
	v := anomalyView{CanAck: auth.Allowed(role(r), auth.AckAlert)}
	for _, a := range open {
		row := anomalyRow{ID: a.ID, Source: a.Source, Detected: s.zone().Stamp(a.Detected), Ratio: "—",
			Entropy: fmt.Sprintf("%.2f (%.2f)", a.Sample.Entropy, a.BaselineEntropy)}
		if a.Sample.ChangeRatio >= 0 {
			row.Ratio = fmt.Sprintf("%.0f%%", 100*a.Sample.ChangeRatio)
		}
		row.Reasons = append(row.Reasons, a.Reasons...)
		v.Rows = append(v.Rows, row)
	}
	var flash msg.Text
	if r.URL.Query().Get("done") == "ack" {
		flash = msg.T("確認済みにしました。", "Acknowledged.")
	}
	s.render(w, r, http.StatusOK, "anomaly.html", "/anomalies", msg.T("異常", "Anomalies"), flash, false, v)
}

// acknowledgeAnomaly records who acknowledged which anomaly.
func (s *Server) acknowledgeAnomaly(w http.ResponseWriter, r *http.Request) {
	if err := s.core.AcknowledgeAnomaly(r.Context(), r.PathValue("id"), actor(r)); err != nil {
		s.failure(w, r, http.StatusBadRequest, err, "/anomalies")
		return
	}
	http.Redirect(w, r, "/anomalies?done=ack", http.StatusSeeOther)
}
