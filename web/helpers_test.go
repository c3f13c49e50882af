package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/relay/rtu"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/hostkey/hostkeytest"
	"github.com/danzen-gw/danzen/internal/syncbuf"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/web"
)

// tinyParams keep argon2id fast in tests.
func tinyParams() auth.Params {
	return auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

const adminPW = "admin-password-0123"

// env is the page over HTTPS in front of a real gateway (no media unless
// a test adds them), with accounts and the page's own ledger.
type env struct {
	t      *testing.T
	dir    string
	cfg    *config.Config
	g      *gateway.Gateway
	a      *auth.Auth
	certs  *web.CertStore
	srv    *httptest.Server
	logs   *syncbuf.Buffer
	code   string
	mu     sync.Mutex
	bodies []string // every response body seen, for the secret check
}

type envOptions struct {
	// wrap replaces the core the page sees (to control events or busy).
	wrap      func(*gateway.Gateway) web.Core
	noAdmin   bool
	fetch     func(ctx context.Context, host string, port int, prefer ...string) (ssh.PublicKey, error)
	configure func(dir string, cfg *config.Config)
	auth      func(*auth.Options) // changes the accounts' options (a test clock)
	// relays are the pins of the relays' drivers ("fake").
	relays map[string]relay.PinSource
	// network and timeSync are the gateway's (commission_network_test.go).
	network  *netconf.Manager
	timeSync gateway.TimeSync
	// adapters are the USB serial adapters the relay module form lists.
	adapters func() ([]rtu.Adapter, error)
	// update is the gateway's firmware update side (update_test.go).
	update gateway.UpdateOptions
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), logs: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	loaded, err := gateway.LoadOrCreate(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loaded.Config
	if o.configure != nil {
		o.configure(e.dir, cfg)
		if err := config.Save(filepath.Join(e.dir, "config.json"), cfg); err != nil {
			t.Fatal(err)
		}
	}
	e.cfg = cfg
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{ConfigPath: filepath.Join(e.dir, "config.json"), Logger: log, RelaySources: o.relays,
		Network: o.network, TimeSync: o.timeSync, Update: o.update})
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, g)
	e.g = g
	rec := g
	ao := auth.Options{Dir: cfg.SecretsDir, Params: tinyParams(), Audit: web.AuditTo(rec, log), Log: log, Lockout: time.Minute}
	if o.auth != nil {
		o.auth(&ao)
	}
	a, err := auth.New(ao)
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	if e.code, _, err = a.EnsureSetupCode(); err != nil {
		t.Fatal(err)
	}
	if !o.noAdmin {
		if err := a.AddUser(context.Background(), "test", "admin", auth.RoleVendorAdmin, adminPW); err != nil {
			t.Fatal(err)
		}
	}
	names, ips := web.CertNames()
	e.certs, _, err = web.OpenCertStore(filepath.Join(e.dir, "tls"), names, ips)
	if err != nil {
		t.Fatal(err)
	}
	var core web.Core = g
	if o.wrap != nil {
		core = o.wrap(g)
	}
	page, err := web.New(web.Options{Core: core, Auth: a, Recorder: rec, Certs: e.certs, Log: log, FetchHostKey: o.fetch, Adapters: o.adapters})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewTLSServer(page)
	t.Cleanup(e.srv.Close)
	return e
}

// client is one browser: its own cookies, no automatic redirects.
type client struct {
	e    *env
	c    *http.Client
	csrf string
	// pw is the signed-in user's password: post types it again for a
	// guarded operation unless the form gives reauth_password itself (a
	// test that leaves it out sends it empty).
	pw string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	hc := *e.srv.Client() // a copy: each browser has its own cookies
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{e: e, c: &hc}
}

type resp struct {
	code     int
	body     string
	location string
	header   http.Header
}

func (c *client) do(method, path string, form url.Values) resp {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) resp {
	c.e.t.Helper()
	r, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer func() { _ = r.Body.Close() }() // read-only
	b, _ := io.ReadAll(r.Body)
	// Every redirect any test meets carries the page's security headers.
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		if miss := missingSecurityHeaders(r.Header, req.URL.Scheme == "https"); len(miss) > 0 {
			c.e.t.Errorf("%s %s: redirect %d lacks %v", req.Method, req.URL.Path, r.StatusCode, miss)
		}
	}
	c.e.mu.Lock()
	c.e.bodies = append(c.e.bodies, string(b))
	c.e.mu.Unlock()
	return resp{code: r.StatusCode, body: string(b), location: r.Header.Get("Location"), header: r.Header}
}

func (c *client) get(path string) resp { c.e.t.Helper(); return c.do("GET", path, nil) }

// post sends a form with the session's CSRF token, as the page's forms do.
func (c *client) post(path string, form url.Values) resp {
	c.e.t.Helper()
	if c.csrf == "" {
		c.csrf = formToken(c.e.t, c.get("/account").body)
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set(auth.CSRFField, c.csrf)
	if _, given := f["reauth_password"]; !given && c.pw != "" {
		f.Set("reauth_password", c.pw)
	}
	return c.do("POST", path, f)
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func formToken(t *testing.T, body string) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

func (e *env) login(user, pw string) *client {
	e.t.Helper()
	c := e.client()
	if r := c.tryLogin(user, pw); r.code != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", user, r.code, r.body)
	}
	c.pw = pw
	return c
}

func (c *client) tryLogin(user, pw string) resp {
	c.e.t.Helper()
	g := c.get(auth.LoginPath)
	if g.code != http.StatusOK {
		c.e.t.Fatalf("GET /login: %d", g.code)
	}
	c.csrf = ""
	return c.do("POST", auth.LoginPath, url.Values{"username": {user}, "password": {pw}, auth.CSRFField: {formToken(c.e.t, g.body)}, "next": {"/"}})
}

// addUser creates an account directly through auth.
func (e *env) addUser(name string, role auth.Role) *client {
	e.t.Helper()
	pw := name + "-password-0123"
	if err := e.a.AddUser(context.Background(), "test", name, role, pw); err != nil {
		e.t.Fatal(err)
	}
	return e.login(name, pw)
}

// entries reads both the gateway's ledger and the page's own (used while
// the gateway cannot record for the page), so tests hold either way.
func (e *env) entries(kinds ...ledger.Kind) []ledger.Entry {
	e.t.Helper()
	var out []ledger.Entry
	for _, d := range []string{e.g.Config().LedgerDir, filepath.Join(e.dir, "ledger-web")} {
		got, err := ledger.Read(d, ledger.Filter{Kinds: kinds})
		if err != nil {
			e.t.Fatalf("ledger %s: %v", d, err)
		}
		out = append(out, got...)
	}
	return out
}

// ledgerText is every stored ledger line, for the secret check.
func (e *env) ledgerText() string {
	var b strings.Builder
	for _, d := range []string{e.g.Config().LedgerDir, filepath.Join(e.dir, "ledger-web")} {
		raw, _ := os.ReadFile(filepath.Join(d, ledger.FileName))
		b.Write(raw)
	}
	return b.String()
}

// fieldErrors returns the messages the page put beside a field.
func fieldErrors(body, field string) []string {
	re := regexp.MustCompile(`<p class="field-error" role="alert" data-for="` + regexp.QuoteMeta(field) + `">([^<]*)</p>`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// sshServer answers SSH handshakes on 127.0.0.1 with a host key that a
// test can swap (a server that changed its key).
type sshServer struct {
	addr string
	port int
	key  *atomic.Pointer[ssh.Signer]
}

func newSSHKey(t *testing.T) ssh.Signer { return hostkeytest.NewKey(t) }

func startSSH(t *testing.T) *sshServer {
	s := hostkeytest.Start(t)
	return &sshServer{addr: s.Addr, port: s.Port, key: &s.Key}
}

func (s *sshServer) fingerprint() string { return ssh.FingerprintSHA256((*s.key.Load()).PublicKey()) }

// privateKeyPEM is an OpenSSH private key, as a vendor would paste it.
func privateKeyPEM(t *testing.T) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(blk)
}

// secretLines are the parts of a PEM file that must never appear: every
// base64 line of its body.
func secretLines(pemText string) []string {
	var out []string
	for _, l := range strings.Split(pemText, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "-----") && len(l) >= 16 {
			out = append(out, l)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.Contains(x, s) })
}

// closeLater closes c when the test ends; a failure to close fails it.
func closeLater(t *testing.T, c io.Closer) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %T: %v", c, err)
		}
	})
}
