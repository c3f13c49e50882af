package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// The page is read in one language at a time, a msg.Lang (JA or EN):
// package auth picks it per request (the signed-in user's choice, default
// Japanese). Handlers build msg.Text and msg errors; the language is
// applied only where text meets the person: by the templates' "tr", and
// by the live stream's JSON.

// pageNames are the templates in assets/, each rendered inside layout.html.
func pageNames() []string {
	return []string{"dashboard.html", "config.html", "form.html", "history.html", "ledger.html", "users.html", "account.html", "tls.html", "message.html", "restore.html", "documents.html", "anomaly.html", "scan.html", "scantarget.html",
		"commission.html", "commission_source.html", "commission_relay.html", "commission_medium.html", "commission_password.html",
		"commission_alerts.html", "commission_cycle.html", "commission_network.html", "update.html",
		"offsite.html"}
}

// templates holds one parsed set per language and page: "t" (a fixed
// text of the template, Japanese then English) and "tr" (a msg.Text or a
// bilingual error from a handler) are bound at parse time, so templates
// stay free of language logic.
type templates map[msg.Lang]map[string]*template.Template

func parseTemplates(assets fs.FS) (templates, error) {
	out := templates{}
	for _, l := range []msg.Lang{msg.JA, msg.EN} {
		funcs := template.FuncMap{
			"t":  func(ja, en string) string { return msg.T(ja, en).Localize(l) },
			"tr": func(x msg.Localizer) string { return x.Localize(l) },
		}
		out[l] = map[string]*template.Template{}
		for _, p := range pageNames() {
			t, err := template.New(p).Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+p)
			if err != nil {
				return nil, fmt.Errorf("parse template %s: %w", p, err)
			}
			out[l][p] = t
		}
	}
	return out, nil
}

// page is what layout.html needs besides the page's own data.
type page struct {
	Lang      msg.Lang
	Title     msg.Text
	User      string
	Role      msg.Text
	Nav       []navItem
	CSRF      string
	CSRFField string
	Flash     msg.Text
	FlashBad  bool
	Switch    auth.Switch // the link to the other language
	Body      any
}

type navItem struct {
	Href    string
	Label   msg.Text
	Current bool
}

// nav lists the pages the user's role may open.
func nav(role auth.Role, current string) []navItem {
	items := []struct {
		href  string
		label msg.Text
		need  auth.Action
	}{
		{"/", msg.T("状態", "Status"), auth.ViewStatus},
		{"/history", msg.T("履歴", "History"), auth.ViewEvidence},
		{"/restore", msg.T("復元・訓練", "Restore"), auth.ViewEvidence},
		{"/ledger", msg.T("証跡台帳", "Evidence ledger"), auth.ViewEvidence},
		{"/anomalies", msg.T("異常", "Anomalies"), auth.ViewStatus},
		{offsitePath, msg.T("院外保管", "Off-site"), auth.ViewStatus},
		{"/documents", msg.T("提出書類", "Documents"), auth.DownloadReports},
		{"/scan", msg.T("自己診断", "Self-scan"), auth.DownloadReports},
		{"/commission", msg.T("導入手順", "Commissioning"), auth.EditConfig},
		{"/config", msg.T("設定", "Configuration"), auth.EditConfig},
		{"/tls", msg.T("証明書", "Certificate"), auth.EditConfig},
		{updatePath, msg.T("更新", "Update"), auth.EditConfig},
		{"/users", msg.T("ユーザー", "Users"), auth.ManageUsers},
		{"/account", msg.T("アカウント", "Account"), auth.ViewStatus},
	}
	var out []navItem
	for _, it := range items {
		if auth.Allowed(role, it.need) {
			out = append(out, navItem{Href: it.href, Label: it.label, Current: it.href == current})
		}
	}
	return out
}

// setPageHeaders restates auth's page headers, which its middleware set
// on every response, where a download then sets its own CSP.
func setPageHeaders(w http.ResponseWriter) { auth.PageHeaders(w.Header()) }

// render writes a page. Pages re-shown with a validation message answer
// 200, as a form page always has: a browser logs 4xx documents as console
// errors and the message is already on the page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, current string, title, flash msg.Text, flashBad bool, body any) {
	l := auth.Lang(r)
	// A switch does not repeat a one-time notice (?done=, ?err=).
	p := page{Lang: l, Title: title, CSRFField: auth.CSRFField, CSRF: auth.CSRFToken(r), Flash: flash, FlashBad: flashBad,
		Switch: auth.SwitchFor(r, "done", "err"), Body: body}
	if sess, ok := auth.SessionFrom(r.Context()); ok {
		p.User, p.Role = sess.User, sess.Role.Label()
		p.Nav = nav(sess.Role, current)
	}
	var b bytes.Buffer
	if err := s.tmpl[l][name].ExecuteTemplate(&b, "layout", p); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, msg.T("画面を表示できません", "cannot render the page").Localize(l), http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.download(w, name, b.Bytes())
}

// download writes a response's bytes; a failure means the browser went
// away, which is nobody's to act on.
func (s *Server) download(w http.ResponseWriter, name string, data []byte) {
	if _, err := w.Write(data); err != nil {
		s.log.Debug("write response", "name", name, "err", err)
	}
}

// message shows a page with one message and a link back.
type messageBody struct {
	Text     msg.Text
	Bad      bool
	BackHref string
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, text msg.Text, bad bool, back string) {
	s.render(w, r, status, "message.html", "", msg.T("お知らせ", "Notice"), msg.Text{}, false, messageBody{Text: text, Bad: bad, BackHref: back})
}

// failure shows why a request failed, with a link back.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, status int, err error, back string) {
	s.message(w, r, status, msg.TextOf(err), true, back)
}

// humanDuration is "2時間5分" in Japanese, "2h 5m" in English, to the
// minute (seconds when short).
func humanDuration(d time.Duration) msg.Text {
	return msg.T(documents.HumanDuration("ja", d), documents.HumanDuration("en", d))
}

// zone is the configured time zone every time on the page is shown in,
// with its label: the appliance's own Local zone is UTC.
func (s *Server) zone() when.Zone { return when.Of(s.core.Config().TimeZone) }
