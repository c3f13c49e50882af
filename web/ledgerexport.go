package web

import (
	"io"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// ledgerExport downloads the evidence ledger as a tar archive an auditor
// verifies elsewhere (`danzen ledger verify --dir` on the unpacked
// folder). The download itself is recorded, after the copy was taken, so
// the copy ends at the entry before it.
func (s *Server) ledgerExport(w http.ResponseWriter, r *http.Request) {
	cfg := s.core.Config()
	// attachment() keeps the name safe in the header; the folder inside
	// the archive takes the gateway ID as configured (validated there).
	name := "danzen-ledger-" + cfg.GatewayID + "-" + s.zone().Time(time.Now()).Format("20060102-1504")
	h := w.Header()
	setPageHeaders(w)
	h.Set("Content-Type", "application/x-tar")
	h.Set("Content-Disposition", attachment(name+".tar"))
	// Streamed: a ledger of years must not be held in memory.
	out := &countingWriter{w: w}
	got, err := ledger.Export(cfg.LedgerDir, name, out)
	if err != nil {
		if out.n == 0 { // nothing sent yet: an error page instead
			h.Del("Content-Disposition")
			s.failure(w, r, http.StatusInternalServerError, err, "/ledger")
			return
		}
		s.log.Warn("ledger download cut", "err", err)
		return
	}
	data := ledger.LedgerExportData{Bytes: got.Bytes}
	if got.Head != nil {
		data.LastSeq, data.LastHash = got.Head.Seq, got.Head.Hash
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindLedgerExport, Actor: actor(r),
		Message: msg.Sprintf("証跡台帳をダウンロードしました(seq %d まで)", "evidence ledger downloaded (up to seq %d)", data.LastSeq),
		Payload: data})
}

// countingWriter counts what reached the client.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
