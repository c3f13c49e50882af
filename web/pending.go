package web

import (
	"context"
	"net"
	"net/http"
	"reflect"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/hostkey"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Guarded operations: what could destroy backups or open the way to the
// media (deleting a medium or a user, changing relays or retention,
// send-back targets, accepting a changed host key) asks the signed-in
// user's password again, so a stolen session alone cannot do it, and is
// recorded with who and from which address. A change that keeps less
// is also held by the gateway for its waiting period (gateway/pending.go);
// the page lists it with a cancel button.

// pendingHolder is the gateway's side of held shortenings.
type pendingHolder interface {
	PendingChanges() ([]gateway.PendingChange, error)
	CancelPending(ctx context.Context, actor, id string) error
}

// reauthField is the form field of the password typed again.
const reauthField = "reauth_password"

// clientAddr is the address a request came from, for the ledger.
func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// withOrigin is r's context carrying its client address, so what the
// gateway records of the change says where it came from.
func withOrigin(r *http.Request) context.Context {
	return ledger.WithOrigin(r.Context(), clientAddr(r))
}

// errReauth is the refusal of a guarded operation without the password.
func errReauth(err error) msg.Text {
	return msg.TextOf(msg.Errorf("この操作には、ログイン中のあなたのパスワードをもう一度入力してください(何も変更していません): %w",
		"this operation needs your own password typed again (nothing was changed): %w", err))
}

// confirmGuarded checks the password typed again in the form; it returns
// the user's name, or the refusal to show.
func (s *Server) confirmGuarded(r *http.Request) (string, msg.Text) {
	pw := r.PostFormValue(reauthField)
	if pw == "" {
		return "", errReauth(msg.New("パスワードが入力されていません", "no password was typed"))
	}
	who, err := s.auth.Reauthenticate(r.Context(), r, pw)
	if err != nil {
		return "", errReauth(err)
	}
	return who, msg.Text{}
}

// recordGuarded records a guarded operation that was done.
func (s *Server) recordGuarded(r *http.Request, who, op, target string, text msg.Text) {
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindGuarded, Actor: who, Message: text,
		Payload: ledger.GuardedData{Op: op, From: clientAddr(r), Target: target}})
}

// guardedSave names the guarded operation a form's save is ("" for
// none): a relay changed (a new one is not), any send-back target, a
// retention, rotation or Object Lock minimum changed, a changed host key
// accepted.
func guardedSave(kind, orig string, cur, next *config.Config, pinned *hostkey.Offer) string {
	switch {
	case pinned != nil && pinned.State == hostkey.Changed:
		return "hostkey.accept"
	case kind == "relay" && orig != "":
		return "relay.change"
	case kind == "target":
		return "target.change"
	case !reflect.DeepEqual(cur.Retention, next.Retention) || cur.Rotation != next.Rotation || !sameLocks(cur, next):
		return "retention.change"
	}
	return ""
}

// sameLocks: no s3 medium's Object Lock minimum changed.
func sameLocks(a, b *config.Config) bool {
	for _, m := range a.Media {
		n, err := b.Medium(m.Name)
		if err == nil && m.S3 != nil && n.S3 != nil && m.S3.MinRetentionDays != n.S3.MinRetentionDays {
			return false
		}
	}
	return true
}

// guardedDelete names the guarded operation deleting an item of kind is.
func guardedDelete(kind string) string {
	switch kind {
	case "medium":
		return "medium.delete"
	case "relay":
		return "relay.change"
	case "target":
		return "target.change"
	}
	return ""
}

// guardedForm: the form of kind may need the password (it is shown).
func guardedForm(kind string) bool {
	switch kind {
	case "general", "relay", "medium", "target", "source":
		return true
	}
	return false
}

// guardedText is the ledger's text of a guarded operation.
func guardedText(op, target string) msg.Text {
	switch op {
	case "medium.delete":
		return msg.Sprintf("媒体 %s を削除(パスワード再入力で確認)", "deleted medium %s (password typed again)", target)
	case "user.delete":
		return msg.Sprintf("ユーザー %s を削除(パスワード再入力で確認)", "deleted user %s (password typed again)", target)
	case "relay.change":
		return msg.Sprintf("リレー %s を変更(パスワード再入力で確認)", "changed relay %s (password typed again)", target)
	case "target.change":
		return msg.Sprintf("書き戻し先 %s を変更(パスワード再入力で確認)", "changed send-back target %s (password typed again)", target)
	case "hostkey.accept":
		return msg.Sprintf("%s の変更されたホスト鍵を受け入れ(パスワード再入力で確認)", "accepted the changed host key of %s (password typed again)", target)
	}
	return msg.T("保持世代・書き込み媒体数・最低保持日数を変更(パスワード再入力で確認)", "changed retention, rotation or minimum retention (password typed again)")
}

// heldView is a held change as the page shows it.
type heldView struct {
	ID, Actor, From string
	Requested       string
	Effective       string
	Changes         []msg.Text
}

// pendingViews are the held changes, for the configuration page and the
// dashboard's banner; an unreadable list is itself shown.
func (s *Server) pendingViews() ([]heldView, msg.Text) {
	ps, err := s.core.PendingChanges()
	if err != nil {
		return nil, msg.TextOf(err)
	}
	z := s.zone()
	var out []heldView
	for _, p := range ps {
		v := heldView{ID: p.ID, Actor: p.Actor, From: p.From, Requested: z.Stamp(p.Requested), Effective: z.Stamp(p.Effective)}
		for _, c := range p.Changes {
			v.Changes = append(v.Changes, c.Describe())
		}
		out = append(out, v)
	}
	return out, msg.Text{}
}

func (s *Server) pendingRoutes(mux *http.ServeMux, need func(auth.Action, http.Handler) http.Handler) {
	mux.Handle("POST /config/pending/{id}/cancel", need(auth.EditConfig, http.HandlerFunc(s.cancelPending)))
}

// cancelPending cancels a held change; the password is typed again.
func (s *Server) cancelPending(w http.ResponseWriter, r *http.Request) {
	who, refused := s.confirmGuarded(r)
	if !refused.IsZero() {
		s.renderOverview(w, r, refused, nil)
		return
	}
	if err := s.core.CancelPending(withOrigin(r), who, r.PathValue("id")); err != nil {
		s.renderOverview(w, r, msg.TextOf(err), nil)
		return
	}
	http.Redirect(w, r, "/config?done=cancelled", http.StatusSeeOther)
}

// pendingCount is how many changes are held now (-1: unknown), to tell a
// saved change from one the gateway held.
func (s *Server) pendingCount() int {
	ps, err := s.core.PendingChanges()
	if err != nil {
		return -1
	}
	return len(ps)
}
