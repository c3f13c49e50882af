package web_test

// The page's attacks from issue 10, each tried and refused: CSRF,
// session fixation, brute force, role escalation, path traversal in
// downloads, oversized inputs and secrets in logs.

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/ledger"
)

// openAnomaly flags an export in the env's staging, as a cycle would.
func openAnomaly(t *testing.T, e *env) backup.Anomaly {
	t.Helper()
	st := e.g.Config().StagingDir
	for i := range 3 {
		s := backup.AnomalySample{Time: time.Now(), ChangeRatio: 0.05, Entropy: 4.8, FilesChanged: 1, FilesTotal: 20 + i}
		if a, err := backup.AssessPull(st, "emr", s); err != nil || a != nil {
			t.Fatalf("normal sample: %v %+v", err, a)
		}
	}
	a, err := backup.AssessPull(st, "emr", backup.AnomalySample{Time: time.Now(), ChangeRatio: 1, Entropy: 7.99, FilesChanged: 20, FilesTotal: 20})
	if err != nil || a == nil {
		t.Fatalf("anomaly not flagged: %v", err)
	}
	return *a
}

// TestAnomalyAcknowledgedFromThePage: every role sees the anomaly, staff
// may acknowledge it (CSRF-protected), auditors may not, and the ledger
// names who did.
func TestAnomalyAcknowledgedFromThePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := openAnomaly(t, e)
	staff, auditor := e.addUser("sato", auth.RoleStaff), e.addUser("suzuki", auth.RoleAuditor)
	for _, c := range []*client{staff, auditor} {
		if r := c.get("/anomalies"); r.code != http.StatusOK || !strings.Contains(r.body, `id="anomaly-`+a.ID+`"`) {
			t.Fatalf("anomaly page: %d", r.code)
		}
	}
	if r := staff.get("/anomalies?lang=en"); r.code != http.StatusOK || !strings.Contains(r.body, "looks encrypted") || !strings.Contains(r.body, ">Acknowledge<") {
		t.Fatalf("English anomaly page: %d", r.code)
	}
	if r := auditor.get("/anomalies"); strings.Contains(r.body, `id="ack-`) {
		t.Fatal("the auditor is offered the acknowledge button")
	}
	if r := auditor.post("/anomalies/"+a.ID+"/ack", nil); r.code != http.StatusForbidden {
		t.Fatalf("auditor acknowledged: %d", r.code)
	}
	if r := staff.do("POST", "/anomalies/"+a.ID+"/ack", url.Values{}); r.code != http.StatusForbidden {
		t.Fatalf("acknowledged without a CSRF token: %d", r.code)
	}
	if open, _ := e.g.OpenAnomalies(); len(open) != 1 {
		t.Fatal("a refused request acknowledged the anomaly")
	}
	if r := staff.post("/anomalies/"+a.ID+"/ack", nil); r.code != http.StatusSeeOther {
		t.Fatalf("staff acknowledgement: %d %s", r.code, r.body)
	}
	if open, _ := e.g.OpenAnomalies(); len(open) != 0 {
		t.Fatalf("still open: %+v", open)
	}
	acks := e.entries(ledger.KindAnomalyAck)
	if len(acks) != 1 || acks[0].Actor != "sato" {
		t.Fatalf("acknowledgement in the ledger: %+v", acks)
	}
	if r := staff.get("/anomalies"); !strings.Contains(r.body, `id="no-anomalies"`) {
		t.Fatal("the page still lists the acknowledged anomaly")
	}
}

// TestEveryPostNeedsTheCSRFToken: each state-changing route refuses a
// request without the session's token, even from an admin.
func TestEveryPostNeedsTheCSRFToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	other := e.login("admin", adminPW)
	otherToken := formToken(t, other.get("/account").body)
	for _, p := range []string{"/cycle", "/restore", "/drill", "/restores/x/remove", "/documents/fields", "/config/undo",
		"/config/general", "/config/source/delete", "/config/source/key", "/tls", "/users/add", "/account/password",
		"/anomalies/x/ack", auth.LogoutPath} {
		for _, tok := range []string{"", "forged", otherToken} {
			f := url.Values{"name": {"x"}}
			if tok != "" {
				f.Set(auth.CSRFField, tok)
			}
			if r := c.do("POST", p, f); r.code != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d, want 403", p, tok, r.code)
			}
		}
	}
	if r := c.get("/account"); r.code != http.StatusOK {
		t.Fatalf("the session did not survive refused posts: %d", r.code)
	}
}

// TestSessionFixation: a session ID chosen before login is never the
// session after it, and logging in again ends the previous session.
func TestSessionFixation(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()
	u, _ := url.Parse(e.srv.URL)
	planted := strings.Repeat("A", 43)
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: planted, Path: "/"}})
	if r := c.tryLogin("admin", adminPW); r.code != http.StatusSeeOther {
		t.Fatalf("login: %d", r.code)
	}
	first := sessionCookie(t, c)
	if first == planted || first == "" {
		t.Fatalf("session after login is %q, the planted one was %q", first, planted)
	}
	// The attacker's browser with the planted ID is not logged in.
	att := e.client()
	att.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: planted, Path: "/"}})
	if r := att.get("/config"); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, auth.LoginPath) {
		t.Fatalf("planted session ID let in: %d", r.code)
	}
	// Worse: the attacker plants a live session of their own (with its
	// CSRF token) and the victim logs in over it. The victim gets a new
	// ID and the attacker's session ends.
	att = e.addUser("sato", auth.RoleStaff)
	live, token := sessionCookie(t, att), formToken(t, att.get("/account").body)
	victim := e.client()
	victim.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: live, Path: "/"}})
	if r := victim.do("POST", auth.LoginPath, url.Values{"username": {"admin"}, "password": {adminPW}, auth.CSRFField: {token}, "next": {"/"}}); r.code != http.StatusSeeOther {
		t.Fatalf("login over a planted session: %d", r.code)
	}
	if got := sessionCookie(t, victim); got == live || got == "" {
		t.Fatal("the victim kept the attacker's session ID")
	}
	if r := att.get("/config"); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, auth.LoginPath) {
		t.Fatalf("the planted session gives the attacker the victim's rights: %d", r.code)
	}
	if r := victim.get("/config"); r.code != http.StatusOK {
		t.Fatalf("victim after login: %d", r.code)
	}
}

func sessionCookie(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.e.srv.URL)
	for _, k := range c.c.Jar.Cookies(u) {
		if k.Name == auth.SessionCookie {
			return k.Value
		}
	}
	return ""
}

// TestBruteForceOverManyNames: one client guessing across user names is
// locked as a client (at its tenth failure), so the real admin password
// from it is refused too.
func TestBruteForceOverManyNames(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()
	for i := range 10 {
		c.tryLogin("guess"+string(rune('a'+i)), "wrong-password-0000")
	}
	if r := c.tryLogin("admin", adminPW); r.code != http.StatusTooManyRequests {
		t.Fatalf("right password from a locked-out client: %d", r.code)
	}
	if r := c.get("/config"); r.code != http.StatusSeeOther {
		t.Fatalf("locked-out client reached /config: %d", r.code)
	}
}

// TestRoleEscalation: staff and auditors cannot change the configuration
// or accounts, nor raise their own role.
func TestRoleEscalation(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := e.g.Config().Schedule
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"sato", auth.RoleStaff}, {"suzuki", auth.RoleAuditor}} {
		c := e.addUser(u.name, u.role)
		for _, req := range []struct {
			path string
			form url.Values
		}{
			{"/config/general", url.Values{"schedule": {"30 1 * * *"}}},
			{"/config/undo", nil},
			{"/users/role", url.Values{"name": {u.name}, "role": {string(auth.RoleVendorAdmin)}}},
			{"/users/add", url.Values{"name": {u.name + "2"}, "role": {string(auth.RoleVendorAdmin)},
				"password": {"escalate-password-0123"}, "password2": {"escalate-password-0123"}}},
			{"/users/delete", url.Values{"name": {"admin"}}},
			{"/cycle", nil},
			{"/tls", nil},
		} {
			if r := c.post(req.path, req.form); r.code != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", u.role, req.path, r.code)
			}
		}
		// A role sneaked into the own-password form changes nothing.
		c.post("/account/password", url.Values{"current": {u.name + "-password-0123"}, "role": {string(auth.RoleVendorAdmin)},
			"password": {u.name + "-password-4567"}, "password2": {u.name + "-password-4567"}})
		for _, usr := range e.a.Users() {
			if usr.Name == u.name && usr.Role != u.role {
				t.Fatalf("%s raised to %s", u.name, usr.Role)
			}
		}
	}
	if e.g.Config().Schedule != before || len(e.a.Users()) != 3 {
		t.Fatal("a refused request changed the configuration or the accounts")
	}
}

// TestDownloadsRefuseTraversal: names that climb out of the documents or
// a restore never serve a file from elsewhere.
func TestDownloadsRefuseTraversal(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	cfgText, err := os.ReadFile(filepath.Join(e.dir, "config.json"))
	if err != nil || len(cfgText) < 20 {
		t.Fatalf("config to look for: %v", err)
	}
	probe := string(cfgText[:20])
	for _, p := range []string{
		"/documents/..%2fconfig.json", "/documents/..%2F..%2F..%2Fetc%2Fpasswd", "/documents/%2e%2e%2fconfig.json",
		"/documents/....//config.json", "/documents/%2Fetc%2Fpasswd",
		"/restores/..%2f..%2f/file?path=config.json", "/restores/x/file?path=..%2F..%2F..%2Fetc%2Fpasswd",
		"/restores/x/file?path=%2Fetc%2Fpasswd", "/restores/..%2F/file?path=..%2Fconfig.json",
		"/static/..%2fweb.go", "/static/../../config.json",
	} {
		r := c.get(p)
		if r.code == http.StatusOK && !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s served %s", p, r.header.Get("Content-Type"))
		}
		if strings.Contains(r.body, "root:x:0:0") || strings.Contains(r.body, probe) || strings.Contains(r.body, "package web") {
			t.Errorf("GET %s leaked a file outside", p)
		}
	}
}

// TestOversizedInputs: bodies over the limit end in a clean refusal, a
// huge header is refused, and the page keeps serving.
func TestOversizedInputs(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	token := formToken(t, c.get("/account").body)
	big := strings.Repeat("x", 3<<20)
	for _, p := range []string{"/config/general", "/users/add", auth.LoginPath, "/anomalies/x/ack"} {
		body := auth.CSRFField + "=" + token + "&name=" + big
		req, _ := http.NewRequest("POST", e.srv.URL+p, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := c.send(req); r.code != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with 3 MiB: %d, want 413", p, r.code)
		}
		// Without a length announced the body is cut at the limit; the
		// request is refused all the same.
		req, _ = http.NewRequest("POST", e.srv.URL+p, io.MultiReader(strings.NewReader(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := c.send(req); r.code != http.StatusForbidden && r.code != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with 3 MiB chunked: %d", p, r.code)
		}
	}
	// Within the body limit, a 500 kB user name is refused as a name.
	if r := c.post("/users/add", url.Values{"name": {strings.Repeat("n", 500<<10)}, "role": {string(auth.RoleAuditor)},
		"password": {"long-name-password-0123"}, "password2": {"long-name-password-0123"}}); r.code >= 500 {
		t.Fatalf("long user name: %d", r.code)
	}
	if len(e.a.Users()) != 1 {
		t.Fatal("a user with a 500 kB name was created")
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("h", 2<<20))
	if r := c.send(req); r.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("2 MiB header: %d", r.code)
	}
	if r := c.get("/account"); r.code != http.StatusOK {
		t.Fatalf("the page stopped serving after oversized inputs: %d", r.code)
	}
}

// TestNoPasswordInLogsOrResponses: passwords typed into the page (right,
// wrong, new) appear in no log line, no response and no ledger entry.
func TestNoPasswordInLogsOrResponses(t *testing.T) {
	e := newEnv(t, envOptions{})
	wrong, newUser, changed := "Wrong-Secret-5b8e2f41", "NewUser-Secret-9c3d7a10", "Changed-Secret-1f6b3e92"
	e.client().tryLogin("admin", wrong)
	e.client().tryLogin("nobody", wrong)
	c := e.login("admin", adminPW)
	c.post("/users/add", url.Values{"name": {"ito"}, "role": {string(auth.RoleStaff)}, "password": {newUser}, "password2": {newUser}})
	c.post("/users/add", url.Values{"name": {"bad"}, "role": {string(auth.RoleStaff)}, "password": {newUser}, "password2": {newUser + "x"}})
	ito := e.login("ito", newUser)
	ito.post("/account/password", url.Values{"current": {wrong}, "password": {changed}, "password2": {changed}})
	ito.post("/account/password", url.Values{"current": {newUser}, "password": {changed}, "password2": {changed}})
	e.login("ito", changed)
	logs, ledgerText := e.logs.String(), e.ledgerText()
	if !strings.Contains(ledgerText, "ito") {
		t.Fatalf("the ledger saw none of it:\n%s", ledgerText)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range []string{wrong, newUser, changed, adminPW} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the password %q", s)
		}
		if strings.Contains(ledgerText, s) {
			t.Errorf("the ledger holds the password %q", s)
		}
		for _, b := range e.bodies {
			if strings.Contains(b, s) {
				t.Errorf("a response holds the password %q", s)
			}
		}
	}
}
