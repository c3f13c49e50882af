package web

import (
	"bytes"
	"fmt"
	"github.com/danzen-gw/danzen/internal/msg"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/documents"
)

// lang is the page's language. Japanese is the default: the people in the
// server room read it first; the vendor's engineers may switch to English.
type lang string

const (
	ja lang = "ja"
	en lang = "en"
)

// langCookie remembers the choice; it is a preference, not a secret.
const langCookie = "danzen_lang"

func (l lang) t(jaText, enText string) string {
	if l == en {
		return enText
	}
	return jaText
}

// m is the page's language for package msg.
func (l lang) m() msg.Lang {
	if l == en {
		return msg.EN
	}
	return msg.JA
}

// in renders a bilingual text or error in the page's language.
func (l lang) in(x msg.Localizer) string { return x.Localize(l.m()) }

// err renders any error in the page's language.
func (l lang) err(err error) string { return msg.In(err, l.m()) }

// split picks one half of a message written "日本語 / English", as the
// status labels and the core's errors are. Text without the separator is
// shown whole.
func (l lang) split(s string) string {
	j, e, ok := strings.Cut(s, " / ")
	if !ok {
		return s
	}
	return l.t(j, e)
}

// langOf reads ?lang= (and remembers it) or the cookie.
func langOf(w http.ResponseWriter, r *http.Request) lang {
	if q := r.URL.Query().Get("lang"); q == "en" || q == "ja" {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		return lang(q)
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		return en
	}
	return ja
}

// pageNames are the templates in assets/, each rendered inside layout.html.
func pageNames() []string {
	return []string{"dashboard.html", "config.html", "form.html", "history.html", "ledger.html", "users.html", "account.html", "tls.html", "message.html", "restore.html", "documents.html", "anomaly.html", "scan.html"}
}

// templates holds one parsed set per page and language: the "t" function
// is bound at parse time, so templates stay free of language logic.
type templates map[string]*template.Template

func parseTemplates(assets fs.FS) (templates, error) {
	out := templates{}
	for _, l := range []lang{ja, en} {
		funcs := template.FuncMap{"t": l.t}
		for _, p := range pageNames() {
			t, err := template.New(p).Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+p)
			if err != nil {
				return nil, fmt.Errorf("parse template %s: %w", p, err)
			}
			out[string(l)+"/"+p] = t
		}
	}
	return out, nil
}

// page is what layout.html needs besides the page's own data.
type page struct {
	Lang      lang
	Title     string
	User      string
	Role      string
	Nav       []navItem
	CSRF      string
	CSRFField string
	Flash     string
	FlashBad  bool
	// Switch is the link to the other language.
	SwitchHref  string
	SwitchLabel string
	SwitchLang  lang
	Body        any
}

type navItem struct {
	Href, Label string
	Current     bool
}

// nav lists the pages the user's role may open.
func nav(l lang, role auth.Role, current string) []navItem {
	items := []struct {
		href   string
		ja, en string
		need   auth.Action
	}{
		{"/", "状態", "Status", auth.ViewStatus},
		{"/history", "履歴", "History", auth.ViewEvidence},
		{"/restore", "復元・訓練", "Restore", auth.ViewEvidence},
		{"/ledger", "証跡台帳", "Evidence ledger", auth.ViewEvidence},
		{"/anomalies", "異常", "Anomalies", auth.ViewStatus},
		{"/documents", "提出書類", "Documents", auth.DownloadReports},
		{"/scan", "自己診断", "Self-scan", auth.DownloadReports},
		{"/config", "設定", "Configuration", auth.EditConfig},
		{"/tls", "証明書", "Certificate", auth.EditConfig},
		{"/users", "ユーザー", "Users", auth.ManageUsers},
		{"/account", "アカウント", "Account", auth.ViewStatus},
	}
	var out []navItem
	for _, it := range items {
		if auth.Allowed(role, it.need) {
			out = append(out, navItem{Href: it.href, Label: l.t(it.ja, it.en), Current: it.href == current})
		}
	}
	return out
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// No inline script or style anywhere: the page's script is a file.
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// render writes a page. Pages re-shown with a validation message answer
// 200, as a form page always has: a browser logs 4xx documents as console
// errors and the message is already on the page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, current, title string, flash string, flashBad bool, body any) {
	l := langOf(w, r)
	p := page{Lang: l, Title: title, CSRFField: auth.CSRFField, CSRF: auth.CSRFToken(r), Flash: flash, FlashBad: flashBad, Body: body}
	if sess, ok := auth.SessionFrom(r.Context()); ok {
		p.User, p.Role = sess.User, l.split(sess.Role.Label())
		p.Nav = nav(l, sess.Role, current)
	}
	q := r.URL.Query()
	q.Del("done")
	q.Del("err")
	if l == en {
		q.Set("lang", "ja")
		p.SwitchLabel, p.SwitchLang = "日本語", ja
	} else {
		q.Set("lang", "en")
		p.SwitchLabel, p.SwitchLang = "English", en
	}
	p.SwitchHref = r.URL.Path + "?" + q.Encode()
	t := s.tmpl[string(l)+"/"+name]
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, l.t("画面を表示できません", "cannot render the page"), http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// message shows a page with one message and a link back.
type messageBody struct {
	Text     string
	Bad      bool
	BackHref string
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, text string, bad bool, back string) {
	l := langOf(w, r)
	s.render(w, r, status, "message.html", "", l.t("お知らせ", "Notice"), "", false, messageBody{Text: text, Bad: bad, BackHref: back})
}

// humanBytes writes n in decimal units, as disk makers do.
func humanBytes(n int64) string {
	if n < 0 {
		n = 0
	}
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// humanDuration is "2時間5分" / "2h 5m", to the minute (seconds when short).
func (l lang) humanDuration(d time.Duration) string { return documents.HumanDuration(string(l), d) }

// stamp is a local time to the second, "—" when unknown.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
