package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// testParams are tiny argon2id costs so the tests run fast.
func testParams() Params { return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32} }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// auditEntry keeps the detail in both languages, as the ledger does.
type auditEntry struct {
	actor  string
	action ledger.Kind
	detail string
}

// env is an Auth behind Middleware with one test route per action.
type env struct {
	t      *testing.T
	a      *Auth
	dir    string
	clk    *fakeClock
	h      http.Handler
	mu     sync.Mutex
	audit  []auditEntry
	bodies []string
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clk: &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}}
	opts := Options{
		Dir: e.dir, Params: testParams(), Now: e.clk.Now,
		Audit: func(actor string, action ledger.Kind, detail msg.Text) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.audit = append(e.audit, auditEntry{actor, action, detail.String()})
		},
	}
	if mod != nil {
		mod(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	mux := http.NewServeMux()
	mux.Handle(LoginPath, a.LoginHandler())
	mux.Handle(LogoutPath, a.LogoutHandler())
	mux.Handle(SetupPath, a.SetupHandler())
	write := func(w io.Writer, s string) {
		if _, err := io.WriteString(w, s); err != nil {
			t.Error(err)
		}
	}
	mux.Handle("/csrf", a.RequireAction(ViewStatus, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, CSRFToken(r))
	})))
	mux.Handle("/lang", a.RequireAction(ViewStatus, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, Lang(r).String())
	})))
	for _, act := range Actions() {
		mux.Handle("/act/"+string(act), a.RequireAction(act, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := SessionFrom(r.Context())
			write(w, "done "+string(act)+" by "+s.User)
		})))
	}
	e.h = a.Middleware(mux)
	return e
}

func (e *env) addUser(name string, role Role, pw string) {
	e.t.Helper()
	if err := e.a.AddUser(context.Background(), "test", name, role, pw); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) audits(action ledger.Kind) []auditEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []auditEntry
	for _, x := range e.audit {
		if x.action == action {
			out = append(out, x)
		}
	}
	return out
}

// assertNoSecrets checks every response body and audit record seen so far.
func (e *env) assertNoSecrets(secrets ...string) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, b := range e.bodies {
			if strings.Contains(b, s) {
				e.t.Errorf("a response body contains the secret %q", s)
			}
		}
		for _, x := range e.audit {
			if strings.Contains(x.actor+string(x.action)+x.detail, s) {
				e.t.Errorf("audit %+v contains the secret %q", x, s)
			}
		}
	}
}

// browser keeps cookies like a browser would (ignoring Secure: httptest is http).
type browser struct {
	e    *env
	addr string
	jar  map[string]*http.Cookie
}

func (e *env) browser(addr string) *browser {
	return &browser{e: e, addr: addr, jar: map[string]*http.Cookie{}}
}

func (b *browser) do(method, path string, form url.Values, hdr http.Header) *httptest.ResponseRecorder {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://danzen.local"+path, body)
	r.RemoteAddr = b.addr + ":40000"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range hdr {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	for _, c := range b.jar {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.e.h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	b.e.mu.Lock()
	b.e.bodies = append(b.e.bodies, w.Body.String())
	b.e.mu.Unlock()
	return w
}

func formToken(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in form:\n%s", body)
	}
	return m[1]
}

// login fills in the login form as a browser would, starting without a
// session (with one, GET /login just redirects).
func (b *browser) login(user, pw string) *httptest.ResponseRecorder {
	b.e.t.Helper()
	delete(b.jar, SessionCookie)
	g := b.do("GET", LoginPath, nil, http.Header{"Accept": {"text/html"}})
	if g.Code != http.StatusOK {
		b.e.t.Fatalf("GET /login: %d", g.Code)
	}
	return b.do("POST", LoginPath, url.Values{"username": {user}, "password": {pw}, CSRFField: {formToken(b.e.t, g.Body.String())}, "next": {"/"}}, nil)
}

func (b *browser) mustLogin(user, pw string) {
	b.e.t.Helper()
	if w := b.login(user, pw); w.Code != http.StatusSeeOther {
		b.e.t.Fatalf("login %s: %d %s", user, w.Code, w.Body)
	}
}

// csrf returns the session's CSRF token as a page would embed it.
func (b *browser) csrf() string {
	b.e.t.Helper()
	w := b.do("GET", "/csrf", nil, nil)
	if w.Code != http.StatusOK || w.Body.Len() == 0 {
		b.e.t.Fatalf("GET /csrf: %d", w.Code)
	}
	return w.Body.String()
}

// act calls a test route; state-changing with the session's token.
func (b *browser) act(a Action) int {
	b.e.t.Helper()
	return b.do("POST", "/act/"+string(a), url.Values{}, http.Header{CSRFHeader: {b.csrf()}}).Code
}
