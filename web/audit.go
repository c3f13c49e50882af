package web

import (
	"context"
	"log/slog"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/ledger"
)

// Recorder appends one entry to the evidence ledger. The gateway owns the
// ledger (one writer per directory), so the page records through it;
// *gateway.Gateway satisfies it.
type Recorder interface {
	Record(ctx context.Context, e ledger.Entry) error
}

// Kinds of the entries the page itself writes. Configuration changes are
// recorded by the gateway (config.change) and the run-now button by
// StartCycle (job.start), both with the user as actor.
const (
	KindHostKeyPinned  = "hostkey.pinned"   // a source's host key was pinned after the user confirmed it
	KindSecretReplaced = "secret.replaced"  // a secret file was replaced (its content is never recorded)
	KindCertReplaced   = "tls.cert.replace" // the page's certificate was replaced
)

// AuditTo turns auth's audit hook into ledger entries: the kind is auth's
// action (auth.login, auth.user.add …), the actor the user, the message
// the detail (which never holds a password or the setup code).
func AuditTo(rec Recorder, log *slog.Logger) auth.AuditFunc {
	return func(actor, action, detail string) {
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
