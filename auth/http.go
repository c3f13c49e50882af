package auth

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Paths of the handlers; the web package mounts them there.
const (
	LoginPath  = "/login"
	LogoutPath = "/logout"
	SetupPath  = "/setup"
)

// Names on the wire. The __Host- prefix makes browsers insist on Secure,
// Path=/ and no Domain, so nothing else on the LAN can plant the cookie.
const (
	SessionCookie = "__Host-danzen_session"
	// preCookie carries the CSRF token of the login and setup forms, which
	// are posted before any session exists (double-submit).
	preCookie  = "__Host-danzen_pre"
	CSRFField  = "csrf_token"   // form field
	CSRFHeader = "X-CSRF-Token" // header, for scripts
)

//go:embed templates/*.html
var templateFS embed.FS // read-only: embedded at build time

// templates holds one parsed set per language: "t" (a fixed text of the
// template) and "tr" (a msg.Text or error) render in that language, so
// the templates hold no language logic.
type templates map[msg.Lang]*template.Template

func parseTemplates() (templates, error) {
	out := templates{}
	for _, l := range []msg.Lang{msg.JA, msg.EN} {
		funcs := template.FuncMap{
			"t":  func(ja, en string) string { return msg.T(ja, en).Localize(l) },
			"tr": func(x msg.Localizer) string { return x.Localize(l) },
		}
		t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
		if err != nil {
			return nil, fmt.Errorf("parse templates: %w", err)
		}
		out[l] = t
	}
	return out, nil
}

// page is what the auth templates show.
type page struct {
	Lang          msg.Lang
	Switch        Switch
	Title         msg.Text
	Message       msg.Text
	CSRF          string
	CSRFField     string
	Next          string
	MinLen        int
	PasswordLabel msg.Text
	Login         string
	// A refused form comes back with what was typed (never a password)
	// and every field's problem at once, listed under Message.
	Typed    map[string]string
	Errs     map[string][]msg.Text
	Problems []msg.Text
}

// Switch is a page's language switch: a link to the same page in the
// other language.
type Switch struct {
	Href  string
	Label string   // the other language's name, in that language
	Lang  msg.Lang // the other language
}

// SwitchFor is the switch of r's page; drop names query parameters the
// link leaves out (one-time notices).
func SwitchFor(r *http.Request, drop ...string) Switch {
	sw := Switch{Label: "English", Lang: msg.EN}
	if Lang(r) == msg.EN {
		sw = Switch{Label: "日本語", Lang: msg.JA}
	}
	q := r.URL.Query()
	for _, k := range drop {
		q.Del(k)
	}
	q.Set(LangParam, sw.Lang.String())
	sw.Href = r.URL.Path + "?" + q.Encode()
	return sw
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

func wantsHTML(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "text/html") }

// hsts asks a browser to reach this host only over HTTPS for a year. A
// browser heeds it only from a connection without certificate errors
// (after the vendor trusted the certificate or uploaded one) and never
// for an address typed as an IP. It covers every port of the name (a
// bench image's plain-HTTP gokrazy page on port 80 is then reached by IP
// only; the appliance's image serves no gokrazy page on the network).
// No includeSubDomains: the gateway has none.
const hsts = "max-age=31536000"

// SecurityHeaders sets what every response of the page carries, redirects
// and refusals included: PageHeaders, and Strict-Transport-Security when
// served over HTTPS (never over plain HTTP: RFC 6797). Middleware sets
// them before any handler runs.
func SecurityHeaders(w http.ResponseWriter, r *http.Request) {
	PageHeaders(w.Header())
	if r.TLS != nil {
		w.Header().Set("Strict-Transport-Security", hsts)
	}
}

// PageHeaders: not cached, nothing but the page's own files (no inline
// script or style anywhere), never inside a frame, no MIME sniffing, no
// address sent to other sites. A handler may loosen one it owns after (a
// static file's Cache-Control, a self-contained report's CSP).
func PageHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// render writes one of the auth pages in the request's language.
func (a *Auth) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Lang, p.Switch = Lang(r), SwitchFor(r)
	p.CSRFField, p.MinLen, p.Login = CSRFField, MinPasswordLen, LoginPath
	p.PasswordLabel = msg.Sprintf("パスワード（%d文字以上）", "Password (at least %d characters)", MinPasswordLen)
	PageHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.tmpl[p.Lang].ExecuteTemplate(w, name, p); err != nil {
		a.log.Error("render auth page", "page", name, "err", err)
	}
}

// refuse answers with why: a small page in the reader's language for
// browsers, both languages in plain text for scripts (as in logs).
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, status int, why error) {
	if wantsHTML(r) {
		a.render(w, r, status, "message.html", page{Title: msg.T("お知らせ", "Notice"), Message: msg.TextOf(why)})
		return
	}
	PageHeaders(w.Header())
	http.Error(w, why.Error(), status)
}

func (a *Auth) setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/",
		MaxAge: int(a.sessions.lifetime / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// preToken returns the pre-session CSRF token, setting the cookie if the
// browser has none yet.
func preToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	t := randomToken()
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: t, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return t
}

// CSRFToken returns the token a form on this request's page must carry in
// the field CSRFField (or a script in the header CSRFHeader). It is "" for
// a request without a session.
func CSRFToken(r *http.Request) string {
	if s, ok := SessionFrom(r.Context()); ok {
		return s.CSRFToken
	}
	return ""
}

// csrfOK checks a state-changing request: not cross-origin, and carrying
// the session's token (or, without a session, the pre-session token).
func (a *Auth) csrfOK(r *http.Request) bool {
	if err := a.cop.Check(r); err != nil {
		return false
	}
	var want string
	if s, ok := SessionFrom(r.Context()); ok {
		want = s.CSRFToken
	} else if c, err := r.Cookie(preCookie); err == nil {
		want = c.Value
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// session returns the live session named by the request's cookie, with
// the user's current role, and its ID.
func (a *Auth) session(w http.ResponseWriter, r *http.Request) (Session, string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Session{}, "", false
	}
	s, ok := a.sessions.touch(c.Value, a.now())
	if ok {
		// The role is read from the store on every request, so a demotion
		// takes effect at once; a removed user's session ends.
		if u, found := a.users.get(s.User); found {
			s.Role = u.Role
			return s, c.Value, true
		}
		a.sessions.destroy(c.Value)
	}
	clearCookie(w, SessionCookie)
	return Session{}, "", false
}

// Middleware sets the security headers on every response (see
// SecurityHeaders; redirects carry them too), loads the session into the
// request context (see SessionFrom) and refuses any state-changing request
// (not GET/HEAD/OPTIONS) without a valid CSRF token with 403.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecurityHeaders(w, r)
		user := ""
		if s, _, ok := a.session(w, r); ok {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
			user = s.User
		}
		r = withLang(r, a.language(w, r, user))
		if !safeMethod(r.Method) && !a.csrfOK(r) {
			a.log.Info("refused request without valid CSRF token", "method", r.Method, "path", r.URL.Path, "client", a.clientAddr(r))
			a.refuse(w, r, http.StatusForbidden, ErrCSRF)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireAction serves h only to a session whose role allows action.
// Without a session: a browser's GET is redirected to the login page,
// anything else gets 401. A role without the right gets 403.
// It relies on Middleware having run.
func (a *Auth) RequireAction(action Action, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := SessionFrom(r.Context())
		if !ok {
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
				http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.refuse(w, r, http.StatusUnauthorized, ErrUnauthenticated)
			return
		}
		if !Allowed(s.Role, action) {
			a.log.Info("refused action for role", "user", s.User, "role", s.Role, "action", action)
			a.refuse(w, r, http.StatusForbidden, ErrForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// safeNext keeps the post-login redirect on this site: a path, never
// //host or a URL.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\r\n\t") ||
		u.Path == LoginPath || u.Path == LogoutPath || u.Path == SetupPath {
		return "/"
	}
	return next
}

// startSession replaces any session the browser had (no fixation) and
// sets the new cookie.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, u User) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		a.sessions.destroy(c.Value)
	}
	id, _ := a.sessions.create(u.Name, u.Role, a.now())
	a.setSessionCookie(w, id)
	clearCookie(w, preCookie)
}

// heldMessage says why a login is held back and for how long; the
// seconds are for Retry-After.
func heldMessage(e *LockedOutError, now time.Time) (msg.Text, int) {
	secs := waitSeconds(e.Until, now)
	if e.Wait {
		return msg.Sprintf("%s（あと%d秒）", "%s (%d s left)", e.reason(), secs), secs
	}
	mins := (secs + 59) / 60
	return msg.Sprintf("%s（あと約%d分）", "%s (about %d min left)", e.reason(), mins), secs
}

func waitSeconds(until, now time.Time) int { return max(1, int(math.Ceil(until.Sub(now).Seconds()))) }

// refuseHeld answers a login or setup try that must wait: 429 with
// Retry-After and the form saying how long.
func (a *Auth) refuseHeld(w http.ResponseWriter, e *LockedOutError, form func(status int, why msg.Text)) {
	text, secs := heldMessage(e, a.now())
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	form(http.StatusTooManyRequests, text)
}

func setupTitle() msg.Text { return msg.T("初期設定", "First-time setup") }

// LoginHandler serves the login form (GET) and checks it (POST).
func (a *Auth) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if a.SetupPending() {
				http.Redirect(w, r, SetupPath, http.StatusSeeOther)
				return
			}
			next := safeNext(r.URL.Query().Get("next"))
			if _, _, ok := a.session(w, r); ok {
				http.Redirect(w, r, next, http.StatusSeeOther)
				return
			}
			a.loginForm(w, r, http.StatusOK, next, msg.Text{})
		case http.MethodPost:
			a.login(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			a.refuse(w, r, http.StatusMethodNotAllowed, ErrMethod)
		}
	})
}

func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if !a.csrfOK(r) {
		a.loginForm(w, r, http.StatusForbidden, next, ErrCSRF.Text())
		return
	}
	client := a.clientAddr(r)
	u, err := a.authenticate(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"), client)
	form := func(status int, why msg.Text) { a.loginForm(w, r, status, next, why) }
	var held *LockedOutError
	switch {
	case errors.As(err, &held):
		a.refuseHeld(w, held, form)
		return
	case errors.Is(err, ErrBadCredentials):
		a.refuseBadCredentials(w, r.PostFormValue("username"), client, form)
		return
	case err != nil:
		a.log.Warn("login", "err", err)
		a.refuse(w, r, http.StatusServiceUnavailable, ErrBusy)
		return
	}
	a.startSession(w, r, u.User)
	a.audit(u.Name, AuditLogin, msg.Sprintf("%s としてログイン。接続元 %s", "logged in as %s; client %s", u.Role, client))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// refuseBadCredentials answers a wrong name or password, saying how long
// to wait before the next try once failures in a row made one necessary
// (also in Retry-After, for scripts).
func (a *Auth) refuseBadCredentials(w http.ResponseWriter, name, client string, form func(status int, why msg.Text)) {
	until, _ := a.limit.held(a.now(), limitKeys(normalizeUserName(name), client)...)
	if until.IsZero() {
		form(http.StatusUnauthorized, ErrBadCredentials.Text())
		return
	}
	secs := waitSeconds(until, a.now())
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	form(http.StatusUnauthorized, msg.Sprintf("%s（次の入力まで%d秒お待ちください）", "%s (wait %d s before the next try)", ErrBadCredentials, secs))
}

// loginForm shows the login form with why the last try was refused.
func (a *Auth) loginForm(w http.ResponseWriter, r *http.Request, status int, next string, why msg.Text) {
	a.render(w, r, status, "login.html", page{Title: msg.T("ログイン", "Log in"), Message: why, CSRF: preToken(w, r), Next: next})
}

// LogoutHandler ends the session (POST with the CSRF token) and sends the
// browser to the login page.
func (a *Auth) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			a.refuse(w, r, http.StatusMethodNotAllowed, ErrMethod)
			return
		}
		s, id, ok := a.session(w, r)
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
			if !a.csrfOK(r) {
				a.refuse(w, r, http.StatusForbidden, ErrCSRF)
				return
			}
			a.sessions.destroy(id)
			a.audit(s.User, AuditLogout, msg.Sprintf("ログアウト。接続元 %s", "logged out; client %s", a.clientAddr(r)))
		}
		clearCookie(w, SessionCookie)
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
	})
}

// SetupHandler serves the first-start form (GET) and, with the right
// setup code (POST), creates the first vendor admin, consumes the code and
// logs the new admin in. Once any user exists it answers 404.
func (a *Auth) SetupHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if !a.SetupPending() {
				a.refuse(w, r, http.StatusNotFound, ErrSetupDone)
				return
			}
			a.render(w, r, http.StatusOK, "setup.html", page{Title: setupTitle(), CSRF: preToken(w, r)})
		case http.MethodPost:
			a.setup(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			a.refuse(w, r, http.StatusMethodNotAllowed, ErrMethod)
		}
	})
}

func (a *Auth) setup(w http.ResponseWriter, r *http.Request) {
	var f setupEntry
	form := func(status int, why msg.Text) {
		a.render(w, r, status, "setup.html", page{Title: setupTitle(), Message: why, CSRF: preToken(w, r), Typed: f.typed, Errs: f.errs, Problems: f.list})
	}
	if !a.SetupPending() {
		a.refuse(w, r, http.StatusNotFound, ErrSetupDone)
		return
	}
	if !a.csrfOK(r) {
		form(http.StatusForbidden, ErrCSRF.Text())
		return
	}
	client := a.clientAddr(r)
	ck := clientKey(client)
	var held *LockedOutError
	if errors.As(a.heldBack([]limitKey{ck}), &held) {
		a.refuseHeld(w, held, form)
		return
	}

	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	name := normalizeUserName(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	f = a.readSetupForm(r)
	if err := a.checkSetupCode(r.PostFormValue("code")); err != nil {
		f.add("code", setupFieldCode(), ErrSetupCode)
		if !errors.Is(err, ErrSetupCode) {
			a.log.Error("setup code", "err", err)
		}
		a.audit("-", AuditSetupRefused, msg.Sprintf("セットアップコードが違うか期限切れ。接続元 %s", "wrong or expired setup code; client %s", client))
		for _, l := range a.limit.fail(a.now(), ck) {
			a.audit("-", AuditLockout, msg.Sprintf("セットアップコードの入力に %[2]d 回続けて失敗したため接続元 %[3]s を %[1]s ロックしました",
				"client %[3]s locked for %[1]s after %[2]d failed setup attempts in a row", span(l.period), l.failures, client))
		}
		form(http.StatusForbidden, f.heading())
		return
	}
	if len(f.list) > 0 {
		form(http.StatusBadRequest, f.heading())
		return
	}
	h, err := a.hash(r.Context(), pw)
	if err != nil {
		a.log.Warn("setup: hash password", "err", err)
		form(http.StatusServiceUnavailable, ErrBusy.Text())
		return
	}
	now := a.now()
	u := User{Name: name, Role: RoleVendorAdmin, Created: now, PasswordChanged: now}
	if err := a.users.add(userRecord{User: u, Hash: h}, true); err != nil {
		if errors.Is(err, ErrSetupDone) {
			a.refuse(w, r, http.StatusNotFound, ErrSetupDone)
			return
		}
		a.log.Error("setup: create first admin", "err", err)
		form(http.StatusInternalServerError, ErrSaveAdmin.Text())
		return
	}
	if err := a.removeSetupCode(); err != nil {
		// Harmless: a code is only accepted while no user exists.
		a.log.Warn("setup", "err", err)
	}
	a.limit.reset(ck)
	a.audit(name, AuditSetupUsed, msg.Sprintf("セットアップコードを使用し、最初のベンダ管理者 %s を作成。接続元 %s", "setup code used: first vendor admin %s created; client %s", name, client))
	a.log.Info("first vendor admin created", "user", name)
	a.startSession(w, r, u)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
