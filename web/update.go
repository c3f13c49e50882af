package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/sysupdate"
)

// updater is what the firmware update view needs from the core.
type updater interface {
	ImageInfo() (sysupdate.ImageInfo, error)
	ApplyUpdate(ctx context.Context, r io.Reader, actor, client string) (bundle.Manifest, error)
}

// updatePath takes a bundle as the raw body of a PUT from the page's
// script (update.js): a form upload would be parsed whole before the
// CSRF check, into memory.
const updatePath = "/system/update"

// maxUpdate bounds an update bundle: a root and a boot file system.
const maxUpdate = 2 << 30

// reauthHeader carries the password typed again for the update.
const reauthHeader = "X-Danzen-Password"

type updateBody struct {
	Available   bool
	Why         msg.Text // why no update can be taken here
	Arch, Build string
	BuildAt     string // the build in RFC 3339, for `danzen image push` (gokrazy/push)
	Key         string // the pinned key's fingerprint
	Recent      []updateRow
}

type updateRow struct {
	At, Actor, Client string
	Text              msg.Text
	Refused           bool
}

func (s *Server) updateRoutes(mux *http.ServeMux, need func(auth.Action, http.Handler) http.Handler) {
	mux.Handle("GET "+updatePath, need(auth.EditConfig, http.HandlerFunc(s.updatePage)))
	mux.Handle("PUT "+updatePath, need(auth.EditConfig, http.HandlerFunc(s.updateUpload)))
}

func (s *Server) updatePage(w http.ResponseWriter, r *http.Request) {
	b := updateBody{}
	info, err := s.core.ImageInfo()
	switch k, kerr := info.Key(); {
	case err != nil:
		b.Why = msg.TextOf(err)
	case kerr != nil || k == nil:
		b.Why = msg.T("このイメージには更新の署名鍵が登録されていないため、更新を受け付けません。署名鍵を指定してイメージを作り直してください",
			"this image has no update signing key pinned, so no update is taken: rebuild the image with one")
	default:
		b.Available, b.Arch, b.Build, b.Key = true, info.Arch, s.zone().Stamp(info.Build), bundle.KeyID(k)
		b.BuildAt = info.Build.UTC().Format(time.RFC3339)
	}
	b.Recent = s.recentUpdates()
	s.render(w, r, http.StatusOK, "update.html", updatePath, msg.T("ファームウェア更新", "Firmware update"), msg.Text{}, false, b)
}

// recentUpdates are the last updates and refusals, newest first.
func (s *Server) recentUpdates() []updateRow {
	es, err := ledger.Read(s.core.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindUpdate, ledger.KindUpdateRefused}})
	if err != nil {
		s.log.Warn("reading update entries", "err", err)
		return nil
	}
	var out []updateRow
	for i := len(es) - 1; i >= 0 && len(out) < 10; i-- {
		e := es[i]
		d, _ := ledger.Decode[ledger.UpdateData](e) // an older entry without data still shows its message
		out = append(out, updateRow{At: s.zone().Stamp(e.Time), Actor: e.Actor, Client: d.Client, Text: e.Message, Refused: e.Kind == ledger.KindUpdateRefused})
	}
	return out
}

// updateUpload takes a bundle. The password is typed again (a stolen
// session alone cannot update), then the bundle streams through its
// verification to the inactive root; the answer is plain text for
// update.js, and the gateway restarts shortly after a success.
func (s *Server) updateUpload(w http.ResponseWriter, r *http.Request) {
	lang := auth.Lang(r)
	answer := func(code int, t msg.Text) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, t.Localize(lang)) // a browser that went away needs no answer
	}
	who, err := s.auth.Reauthenticate(r.Context(), r, r.Header.Get(reauthHeader))
	if err != nil {
		answer(http.StatusForbidden, msg.TextOf(msg.Wrap(err, "パスワードを確認できません", "the password could not be confirmed")))
		return
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	ctx, cancel := context.WithTimeout(r.Context(), updateDeadline)
	defer cancel()
	m, err := s.core.ApplyUpdate(ctx, r.Body, who, client)
	if err != nil {
		code := http.StatusUnprocessableEntity
		if errors.Is(err, gateway.ErrBusy) {
			code = http.StatusConflict
		}
		answer(code, msg.TextOf(msg.Wrap(err, "更新しませんでした。今までのファームウェアのままです", "not updated; the current firmware stays")))
		return
	}
	answer(http.StatusOK, msg.Sprintf("ビルド %s を書き込み、切り替えました。ゲートウェイを再起動します。1〜2分後にこのページを開き直してください",
		"build %s written and switched to; the gateway restarts now. Open this page again in a minute or two", s.zone().Stamp(m.Build)))
}

// updateDeadline keeps a slow upload from holding the gateway for ever.
const updateDeadline = 30 * time.Minute
