package web_test

// Issue 16, "Log-in that a neighbour cannot lock": over the real page and
// ledger, a neighbour's failures leave the admin's address alone; HSTS
// and the security headers are on every response, redirects too.

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/internal/msg"
)

// withAuthClock runs the env's accounts on the real clock plus a lead
// the test moves on with the returned func.
func withAuthClock() (envOptions, func(time.Duration)) {
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	return envOptions{auth: func(o *auth.Options) { o.Now = now }}, func(d time.Duration) { ahead.Add(int64(d)) }
}

// clientFrom is a browser on another machine: it connects from ip (any
// address of 127.0.0.0/8 is this host's).
func (e *env) clientFrom(ip string) *client {
	c := e.client()
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = d.DialContext
	c.c.Transport = tr
	return c
}

func retryAfter(t *testing.T, r resp) time.Duration {
	t.Helper()
	h := r.header.Get("Retry-After")
	if h == "" {
		return 0
	}
	secs, err := strconv.Atoi(h)
	if err != nil {
		t.Fatalf("Retry-After %q: %v", h, err)
	}
	return time.Duration(secs) * time.Second
}

// TestNeighbourCannotLockTheAdminOut: a neighbour failing ten times at
// "admin" (waiting out every pause, so each is checked) is locked itself,
// with the lock in the ledger in both languages; the admin logs in from
// the admin's own address at once.
func TestNeighbourCannotLockTheAdminOut(t *testing.T) {
	o, wait := withAuthClock()
	e := newEnv(t, o)
	neighbour := e.clientFrom("127.0.0.66")
	var last resp
	for i := range 10 {
		wait(retryAfter(t, last))
		last = neighbour.tryLogin("admin", "wrong-password-"+strconv.Itoa(i))
	}
	if n := len(e.entries(auth.AuditLoginFailed)); n != 10 {
		t.Fatalf("%d failed logins recorded, want 10", n)
	}
	if r := e.clientFrom("127.0.0.10").tryLogin("admin", adminPW); r.code != http.StatusSeeOther {
		t.Fatalf("the admin from another address: %d", r.code)
	}
	if r := neighbour.tryLogin("admin", adminPW); r.code != http.StatusTooManyRequests {
		t.Fatalf("right password from the locked neighbour: %d", r.code)
	}
	locks := e.entries(auth.AuditLockout)
	if len(locks) == 0 {
		t.Fatal("the neighbour's lock is not in the ledger")
	}
	m := locks[0].Message
	if locks[0].Actor != "admin" || !strings.Contains(m.Localize(msg.JA), "接続元 127.0.0.66") || !strings.Contains(m.Localize(msg.EN), "client 127.0.0.66") {
		t.Fatalf("lock entry: %s %q", locks[0].Actor, m.String())
	}
}

// TestLockoutAfterRepeatedFailures: one client failing at one name waits
// longer after each failure and is locked at the fifth, even for the
// right password; the lock is in the ledger.
func TestLockoutAfterRepeatedFailures(t *testing.T) {
	o, wait := withAuthClock()
	e := newEnv(t, o)
	c := e.client()
	var last resp
	for i := range 5 {
		wait(retryAfter(t, last))
		last = c.tryLogin("admin", "wrong-password-0000")
		if i == 2 && retryAfter(t, last) != 4*time.Second {
			t.Fatalf("third failure: Retry-After %q", last.header.Get("Retry-After"))
		}
	}
	if last.code != http.StatusTooManyRequests || !strings.Contains(last.body, "しばらくログインできません") {
		t.Fatalf("fifth failure: %d", last.code)
	}
	if r := c.tryLogin("admin", adminPW); r.code != http.StatusTooManyRequests {
		t.Fatalf("right password during lockout: %d", r.code)
	}
	if n := len(e.entries(auth.AuditLoginFailed)); n != 5 {
		t.Fatalf("%d failed logins recorded, want 5", n)
	}
	if len(e.entries(auth.AuditLockout)) == 0 {
		t.Fatal("lockout not recorded")
	}
}

// missingSecurityHeaders names what a response of the HTTPS page lacks.
func missingSecurityHeaders(h http.Header, https bool) []string {
	want := map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	if https {
		want["Strict-Transport-Security"] = "max-age="
	}
	var out []string
	for k, v := range want {
		if !strings.Contains(h.Get(k), v) {
			out = append(out, k)
		}
	}
	return out
}

// TestHSTSOnPagesAndRedirects: the HTTPS page sends
// Strict-Transport-Security on a page and on a redirect, for at least
// half a year; the same handler over plain HTTP (the demo) does not.
func TestHSTSOnPagesAndRedirects(t *testing.T) {
	e := newEnv(t, envOptions{})
	anon := e.client()
	page, redirect := anon.get(auth.LoginPath), anon.get("/config")
	if page.code != http.StatusOK || redirect.code != http.StatusSeeOther {
		t.Fatalf("login page %d, /config %d", page.code, redirect.code)
	}
	for name, r := range map[string]resp{"page": page, "redirect": redirect} {
		v := r.header.Get("Strict-Transport-Security")
		age, err := strconv.Atoi(strings.TrimPrefix(v, "max-age="))
		if err != nil || age < 180*24*3600 {
			t.Errorf("%s: Strict-Transport-Security %q", name, v)
		}
	}
	plain := httptest.NewServer(e.srv.Config.Handler)
	defer plain.Close()
	r, err := plain.Client().Get(plain.URL + auth.LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Body.Close() // only the headers are read
	if v := r.Header.Get("Strict-Transport-Security"); v != "" {
		t.Errorf("HSTS over plain HTTP: %q", v)
	}
}

// TestSecurityHeadersOnEveryRedirect walks the routes that redirect:
// every page to the login, the login and setup to where they lead, each
// form that answers "303 See Other", and the mux's own path cleaning.
// Each carries the page's security headers and HSTS.
func TestSecurityHeadersOnEveryRedirect(t *testing.T) {
	e := newEnv(t, envOptions{noAdmin: true})
	var walked int
	check := func(what string, r resp) {
		t.Helper()
		if r.code < 300 || r.code > 399 {
			t.Errorf("%s: %d, want a redirect", what, r.code)
			return
		}
		walked++
		if miss := missingSecurityHeaders(r.header, true); len(miss) > 0 {
			t.Errorf("%s (%d to %s) lacks %v", what, r.code, r.location, miss)
		}
	}
	anon := e.client()
	check("GET /login before setup", anon.get(auth.LoginPath))
	admin := e.client()
	tok := formToken(t, admin.get(auth.SetupPath).body)
	check("POST /setup", admin.do("POST", auth.SetupPath, url.Values{auth.CSRFField: {tok}, "code": {e.code},
		"username": {"admin"}, "password": {adminPW}, "password2": {adminPW}}))
	admin.pw = adminPW // typed again where a change is guarded
	check("GET /login signed in", admin.get(auth.LoginPath+"?next=/history"))
	for _, p := range []string{"/", "/events", "/history", "/ledger", "/restore", "/restores/x/file", "/anomalies",
		"/documents", "/documents/x.pdf", "/scan", "/scan/reports/x.html", "/scan/register.csv", "/config",
		"/config/general", "/config/source", "/tls", "/users", "/account"} {
		check("anonymous GET "+p, anon.get(p))
	}
	check("GET /static (mux)", anon.get("/static"))
	check("GET /history/../ledger (mux)", anon.get("/history/../ledger"))

	check("POST /config/general", admin.post("/config/general", generalForm(t, admin, map[string]string{"retention.keep_last": "9"})))
	check("POST /config/undo", admin.post("/config/undo", nil))
	check("POST /users/add", admin.post("/users/add", url.Values{"name": {"ito"}, "role": {string(auth.RoleStaff)},
		"password": {"ito-password-0123"}, "password2": {"ito-password-0123"}}))
	check("POST /cycle", admin.post("/cycle", nil))
	ito := e.client()
	check("POST /login", ito.tryLogin("ito", "ito-password-0123"))
	check("POST /account/password", ito.post("/account/password", url.Values{"current": {"ito-password-0123"},
		"password": {"ito-password-4567"}, "password2": {"ito-password-4567"}}))
	check("POST /logout", admin.post(auth.LogoutPath, nil))
	if walked < 28 {
		t.Fatalf("only %d redirects walked", walked)
	}
}
