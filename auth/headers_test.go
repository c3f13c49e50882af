package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSecurityHeadersOnAuthRedirects: every redirect auth makes (to the
// setup, after it, to the login, after it, after logout) carries the
// page headers and, over HTTPS, HSTS; plain HTTP gets no HSTS.
func TestSecurityHeadersOnAuthRedirects(t *testing.T) {
	e := newEnv(t, nil)
	code, _, err := e.a.EnsureSetupCode()
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, w *httptest.ResponseRecorder) {
		t.Helper()
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d, want 303", what, w.Code)
		}
		for k, v := range map[string]string{
			"Content-Security-Policy":   "frame-ancestors 'none'",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "same-origin",
			"Cache-Control":             "no-store",
			"Strict-Transport-Security": "max-age=31536000",
		} {
			if got := w.Header().Get(k); !strings.Contains(got, v) {
				t.Errorf("%s: %s is %q", what, k, got)
			}
		}
	}
	b := e.browser("192.0.2.10")
	check("GET /login before setup", b.do("GET", LoginPath, nil, nil))
	g := b.do("GET", SetupPath, nil, http.Header{"Accept": {"text/html"}})
	check("POST /setup", b.do("POST", SetupPath, url.Values{CSRFField: {formToken(t, g.Body.String())}, "code": {code},
		"username": {"vendor"}, "password": {adminPW}, "password2": {adminPW}}, nil))
	check("GET /login signed in", b.do("GET", LoginPath+"?next=/act/view_status", nil, nil))
	check("POST /logout", b.do("POST", LogoutPath, url.Values{CSRFField: {b.csrf()}}, nil))
	check("GET a page signed out", b.do("GET", "/act/view_status", nil, http.Header{"Accept": {"text/html"}}))
	check("POST /login", b.login("vendor", adminPW))

	r := httptest.NewRequest("GET", "http://danzen.local"+LoginPath, nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if v := w.Header().Get("Strict-Transport-Security"); v != "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("plain HTTP: HSTS %q, nosniff %q", v, w.Header().Get("X-Content-Type-Options"))
	}
}
