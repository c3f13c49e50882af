package web

import (
	"context"
	"log/slog"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Recorder appends one entry to the evidence ledger. The gateway owns the
// ledger (one writer per directory), so the page records through it;
// *gateway.Gateway satisfies it.
type Recorder interface {
	Record(ctx context.Context, e ledger.Entry) error
}

// AuditTo turns auth's audit hook into ledger entries: the kind is auth's
// action (auth.login, auth.user.add …), the actor the user, the message
// the detail (which never holds a password or the setup code).
func AuditTo(rec Recorder, log *slog.Logger) auth.AuditFunc {
	return func(actor string, action ledger.Kind, detail msg.Text) {
		err := rec.Record(context.Background(), ledger.Entry{Kind: action, Actor: actor, Message: detail})
		if err != nil && log != nil {
			log.Error("audit record failed", "action", action, "err", err)
		}
	}
}

// record writes one of the page's own entries; a failure is logged, not
// shown, because the change it documents has already happened.
func (s *Server) record(ctx context.Context, e ledger.Entry) {
	if err := s.rec.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("evidence ledger write failed", "kind", e.Kind, "err", err)
	}
}
