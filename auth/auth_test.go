package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

const (
	adminPW = "correct-horse-battery"
	staffPW = "staff-password-123"
	audPW   = "auditor-password-9"
)

// bilingual checks text meant for both languages: a log line, an error's
// Error(), a refusal in plain text for scripts.
func bilingual(t *testing.T, body, ja, en string) {
	t.Helper()
	if !strings.Contains(body, ja) || !strings.Contains(body, en) {
		t.Errorf("want %q and %q in:\n%s", ja, en, body)
	}
}

// inJapanese checks a page shown in Japanese: the message in Japanese and
// not in English.
func inJapanese(t *testing.T, body, ja, en string) {
	t.Helper()
	if !strings.Contains(body, `<html lang="ja">`) || !strings.Contains(body, ja) || strings.Contains(body, en) {
		t.Errorf("want a Japanese page with %q and without %q:\n%s", ja, en, body)
	}
}

// inEnglish checks a page shown in English: the message in English and
// no Japanese at all but the switch back to Japanese.
func inEnglish(t *testing.T, body, en string) {
	t.Helper()
	rest := strings.Replace(body, `lang="ja" id="lang-switch">日本語</a>`, "", 1)
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, en) || japaneseRE.MatchString(rest) {
		t.Errorf("want an English page with %q and no Japanese:\n%s", en, body)
	}
}

var japaneseRE = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)

func setupForm(t *testing.T, b *browser, code, user, pw string) (int, string) {
	t.Helper()
	g := b.do("GET", SetupPath, nil, http.Header{"Accept": {"text/html"}})
	if g.Code != http.StatusOK {
		return g.Code, g.Body.String()
	}
	w := b.do("POST", SetupPath, url.Values{
		CSRFField: {formToken(t, g.Body.String())}, "code": {code},
		"username": {user}, "password": {pw}, "password2": {pw},
	}, nil)
	return w.Code, w.Body.String()
}

func TestSetupCodeCreatesFirstAdminOnce(t *testing.T) {
	e := newEnv(t, nil)
	code, exp, err := e.a.EnsureSetupCode()
	if err != nil || code == "" {
		t.Fatalf("EnsureSetupCode: %q %v", code, err)
	}
	if want := e.clk.Now().Add(24 * time.Hour); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	fi, err := os.Stat(filepath.Join(e.dir, SetupCodeFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("setup code file: %v %v", fi, err)
	}
	if again, _, _ := e.a.EnsureSetupCode(); again != code {
		t.Errorf("a valid code must be shown again after a restart, got %q then %q", code, again)
	}
	if len(e.audits(AuditSetupIssued)) != 1 {
		t.Errorf("want one %s audit", AuditSetupIssued)
	}

	b := e.browser("192.0.2.10")
	if w := b.do("GET", LoginPath, nil, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != SetupPath {
		t.Errorf("login before setup: %d %s", w.Code, w.Header().Get("Location"))
	}
	if c, body := setupForm(t, b, "WRONG-CODE", "vendor", adminPW); c != http.StatusForbidden {
		t.Fatalf("wrong code: %d", c)
	} else {
		inJapanese(t, body, "セットアップコードが違う", "setup code is wrong")
	}
	if c, body := setupForm(t, b, code, "vendor", "short"); c != http.StatusBadRequest {
		t.Fatalf("short password: %d", c)
	} else {
		inJapanese(t, body, "12文字以上", "at least 12 characters")
	}
	if len(e.a.Users()) != 0 {
		t.Fatal("a refused setup created a user")
	}
	// Typed by hand: lower case, spaces for hyphens.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	if c, body := setupForm(t, b, typed, "Vendor", adminPW); c != http.StatusSeeOther {
		t.Fatalf("setup: %d %s", c, body)
	}
	if b.jar[SessionCookie] == nil {
		t.Error("setup should log the new admin in")
	}
	if us := e.a.Users(); len(us) != 1 || us[0].Name != "vendor" || us[0].Role != RoleVendorAdmin {
		t.Fatalf("users after setup: %+v", us)
	}
	if _, err := os.Stat(filepath.Join(e.dir, SetupCodeFile)); !os.IsNotExist(err) {
		t.Errorf("setup code file still there: %v", err)
	}
	if u := e.audits(AuditSetupUsed); len(u) != 1 || u[0].actor != "vendor" {
		t.Errorf("setup audit: %+v", u)
	}
	if c := b.act(EditConfig); c != http.StatusOK {
		t.Errorf("new admin EditConfig: %d", c)
	}

	// Second use, from another browser: refused, nothing created.
	b2 := e.browser("192.0.2.11")
	g := b2.do("GET", SetupPath, nil, http.Header{"Accept": {"text/html"}})
	if g.Code != http.StatusNotFound {
		t.Errorf("GET /setup after setup: %d", g.Code)
	}
	w := b2.do("POST", SetupPath, url.Values{"code": {code}, "username": {"mallory"}, "password": {adminPW}, "password2": {adminPW}}, nil)
	if w.Code != http.StatusNotFound && w.Code != http.StatusForbidden {
		t.Errorf("second use of the setup code: %d", w.Code)
	}
	if len(e.a.Users()) != 1 {
		t.Errorf("second use created a user: %+v", e.a.Users())
	}
	if again, _, err := e.a.EnsureSetupCode(); again != "" || err != nil {
		t.Errorf("EnsureSetupCode after setup: %q %v", again, err)
	}
	e.assertNoSecrets(adminPW, code, normalizeSetupCode(code))
}

func TestSetupCodeExpires(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SetupCodeTTL = time.Hour })
	code, _, err := e.a.EnsureSetupCode()
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	b := e.browser("192.0.2.10")
	if c, _ := setupForm(t, b, code, "vendor", adminPW); c != http.StatusForbidden {
		t.Fatalf("expired code: %d", c)
	}
	if len(e.a.Users()) != 0 {
		t.Fatal("expired code created a user")
	}
	if len(e.audits(AuditSetupRefused)) != 1 {
		t.Error("refused setup not audited")
	}
	// A restart (EnsureSetupCode) issues a fresh code; the old one stays dead.
	fresh, _, err := e.a.EnsureSetupCode()
	if err != nil || fresh == "" || fresh == code {
		t.Fatalf("fresh code %q (old %q): %v", fresh, code, err)
	}
	if c, _ := setupForm(t, b, code, "vendor", adminPW); c != http.StatusForbidden {
		t.Errorf("old code after reissue: %d", c)
	}
	if c, _ := setupForm(t, b, fresh, "vendor", adminPW); c != http.StatusSeeOther {
		t.Errorf("fresh code: %d", c)
	}
}

func TestLoginSetsStrictCookie(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.10")
	w := b.login("vendor", adminPW)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("login: %d %q", w.Code, w.Header().Get("Location"))
	}
	var c *http.Cookie
	for _, x := range w.Result().Cookies() {
		if x.Name == SessionCookie {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie flags: %+v", c)
	}
	if id, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil || len(id) != 32 {
		t.Errorf("session ID is not 256 random bits: %q", c.Value)
	}
	if !strings.Contains(w.Header().Get("Set-Cookie")+strings.Join(w.Header().Values("Set-Cookie"), ";"), "SameSite=Strict") {
		t.Error("Set-Cookie lacks SameSite=Strict")
	}
	if code := b.do("GET", "/act/view_status", nil, nil).Code; code != http.StatusOK {
		t.Errorf("after login: %d", code)
	}
	if l := e.audits(AuditLogin); len(l) != 1 || l[0].actor != "vendor" || !strings.Contains(l[0].detail, "192.0.2.10") {
		t.Errorf("login audit: %+v", l)
	}
	e.assertNoSecrets(adminPW, c.Value)
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.10")
	wrong := b.login("vendor", "not-the-password")
	unknown := b.login("nobody-"+adminPW, "not-the-password") // a password typed into the name field
	for _, w := range []int{wrong.Code, unknown.Code} {
		if w != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", w)
		}
	}
	if b.jar[SessionCookie] != nil {
		t.Error("failed login set a session cookie")
	}
	strip := func(s string) string { return tokenStrip(s) }
	if strip(wrong.Body.String()) != strip(unknown.Body.String()) {
		t.Error("wrong password and unknown user answer differently")
	}
	inJapanese(t, wrong.Body.String(), "ユーザー名またはパスワードが違います", "Wrong user name or password")
	if code := b.do("GET", "/act/view_status", nil, nil).Code; code != http.StatusUnauthorized {
		t.Errorf("protected page after failed login: %d", code)
	}
	f := e.audits(AuditLoginFailed)
	if len(f) != 2 || f[0].actor != "vendor" || f[1].actor != "-" {
		t.Errorf("failed-login audits: %+v", f)
	}
	e.assertNoSecrets(adminPW, "not-the-password")
}

func tokenStrip(s string) string {
	i := strings.Index(s, `name="csrf_token" value="`)
	if i < 0 {
		return s
	}
	j := strings.Index(s[i+25:], `"`)
	return s[:i] + s[i+25+j:]
}

func TestLockoutAndItLifts(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.10")
	for i, w := range patientFailures(t, e, b, "vendor", 5) {
		want := http.StatusUnauthorized
		if i == 4 {
			want = http.StatusTooManyRequests
		}
		if w.Code != want {
			t.Fatalf("attempt %d: %d, want %d", i+1, w.Code, want)
		}
	}
	// Now even the right password is refused from that address (another
	// address is not held up: TestNeighbourFailuresDoNotLockTheNameForOthers).
	w := b.login("vendor", adminPW)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("locked login: %d retry-after %q", w.Code, w.Header().Get("Retry-After"))
	}
	inJapanese(t, w.Body.String(), "しばらくログインできません", "Too many failed logins")
	if len(e.audits(AuditLockout)) == 0 {
		t.Error("lockout not audited")
	}
	e.clk.Add(14 * time.Minute)
	if c := b.login("vendor", adminPW).Code; c != http.StatusTooManyRequests {
		t.Errorf("still within the lockout: %d", c)
	}
	e.clk.Add(time.Minute)
	b.mustLogin("vendor", adminPW)
	e.assertNoSecrets(adminPW)
}

func TestLockoutPerClientAddressDoesNotRevealUsers(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.10")
	for i := range 10 { // Options.MaxClientFailures
		b.login("guess"+string(rune('a'+i)), "some-wrong-password")
	}
	if c := b.login("vendor", adminPW).Code; c != http.StatusTooManyRequests {
		t.Errorf("locked client address: %d", c)
	}
	e.browser("192.0.2.20").mustLogin("vendor", adminPW)
	for _, x := range e.audit {
		if strings.Contains(x.actor+x.detail, "guess") {
			t.Errorf("unknown user name in audit: %+v", x)
		}
	}
}

func TestSuccessResetsFailures(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.10")
	for round := 0; round < 3; round++ {
		for i, w := range patientFailures(t, e, b, "vendor", 4) {
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("round %d attempt %d: %d", round, i, w.Code)
			}
			if round > 0 && i == 0 && w.Header().Get("Retry-After") != "" {
				t.Fatalf("round %d: the first failure after a success waits", round)
			}
		}
		e.clk.Add(8 * time.Second) // the wait after the fourth failure
		b.mustLogin("vendor", adminPW)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.10")
	b.mustLogin("vendor", adminPW)
	tok := b.csrf()

	missing := b.do("POST", "/act/run_cycle", url.Values{}, nil)
	if missing.Code != http.StatusForbidden {
		t.Errorf("missing token: %d", missing.Code)
	}
	bilingual(t, missing.Body.String(), "不正な要求", "not allowed")
	if c := b.do("POST", "/act/run_cycle", url.Values{CSRFField: {"x" + tok[1:]}}, nil).Code; c != http.StatusForbidden {
		t.Errorf("wrong token in form: %d", c)
	}
	if c := b.do("DELETE", "/act/edit_config", nil, http.Header{CSRFHeader: {"nope"}}).Code; c != http.StatusForbidden {
		t.Errorf("wrong token in header: %d", c)
	}
	if c := b.do("PUT", "/act/edit_config", nil, http.Header{CSRFHeader: {tok}}).Code; c != http.StatusOK {
		t.Errorf("right header token: %d", c)
	}
	if c := b.do("POST", "/act/run_cycle", url.Values{CSRFField: {tok}}, nil).Code; c != http.StatusOK {
		t.Errorf("right form token: %d", c)
	}
	if c := b.do("POST", "/act/run_cycle", url.Values{CSRFField: {tok}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}).Code; c != http.StatusForbidden {
		t.Errorf("cross-site request with the token: %d", c)
	}
	// Another session's token does not do.
	b2 := e.browser("192.0.2.11")
	b2.mustLogin("vendor", adminPW)
	if c := b2.do("POST", "/act/run_cycle", url.Values{CSRFField: {tok}}, nil).Code; c != http.StatusForbidden {
		t.Errorf("token of another session: %d", c)
	}
	// The login form needs its pre-session token too.
	b3 := e.browser("192.0.2.12")
	if c := b3.do("POST", LoginPath, url.Values{"username": {"vendor"}, "password": {adminPW}}, nil).Code; c != http.StatusForbidden {
		t.Errorf("login without token: %d", c)
	}
	if b3.jar[SessionCookie] != nil {
		t.Error("login without token created a session")
	}
	// Logout without the token keeps the session.
	if c := b.do("POST", LogoutPath, url.Values{}, nil).Code; c != http.StatusForbidden {
		t.Errorf("logout without token: %d", c)
	}
	if c := b.do("GET", "/act/view_status", nil, nil).Code; c != http.StatusOK {
		t.Errorf("session ended by a forged logout: %d", c)
	}
}

func TestAllowedMatrix(t *testing.T) {
	allow := map[Role][]Action{
		RoleVendorAdmin: Actions(),
		RoleStaff:       {ViewStatus, ViewEvidence, DownloadReports, StartDrill, AckAlert, HandleMedia},
		RoleAuditor:     {ViewStatus, ViewEvidence, DownloadReports},
	}
	for _, r := range Roles() {
		for _, a := range Actions() {
			want := false
			for _, x := range allow[r] {
				want = want || x == a
			}
			if got := Allowed(r, a); got != want {
				t.Errorf("Allowed(%s, %s) = %v", r, a, got)
			}
		}
	}
	if Allowed("root", ViewStatus) || Allowed(RoleVendorAdmin, "format_disk") {
		t.Error("unknown role or action allowed")
	}
}

func TestRoleLimitsOverHTTP(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	e.addUser("staff", RoleStaff, staffPW)
	e.addUser("audit", RoleAuditor, audPW)
	login := func(u, pw string) *browser {
		b := e.browser("192.0.2.30")
		b.mustLogin(u, pw)
		return b
	}
	admin, staff, aud := login("vendor", adminPW), login("staff", staffPW), login("audit", audPW)
	for _, a := range Actions() {
		if c := admin.act(a); c != http.StatusOK {
			t.Errorf("admin %s: %d", a, c)
		}
	}
	for a, want := range map[Action]int{StartDrill: 200, AckAlert: 200, ViewEvidence: 200, EditConfig: 403, RunCycle: 403, PowerForRestore: 403, ManageUsers: 403} {
		if c := staff.act(a); c != want {
			t.Errorf("staff %s: %d, want %d", a, c, want)
		}
	}
	for a, want := range map[Action]int{ViewStatus: 200, DownloadReports: 200, RunCycle: 403, EditConfig: 403, StartDrill: 403, AckAlert: 403, HandleMedia: 403} {
		if c := aud.act(a); c != want {
			t.Errorf("auditor %s: %d, want %d", a, c, want)
		}
	}
	w := aud.do("GET", "/act/edit_config", nil, http.Header{"Accept": {"text/html"}})
	inJapanese(t, w.Body.String(), "権限がありません", "not allowed")

	anon := e.browser("192.0.2.31")
	if w := anon.do("GET", "/act/view_status?x=1", nil, http.Header{"Accept": {"text/html,*/*"}}); w.Code != http.StatusSeeOther ||
		w.Header().Get("Location") != "/login?next=%2Fact%2Fview_status%3Fx%3D1" {
		t.Errorf("anonymous HTML GET: %d %q", w.Code, w.Header().Get("Location"))
	}
	if c := anon.do("GET", "/act/view_status", nil, nil).Code; c != http.StatusUnauthorized {
		t.Errorf("anonymous GET: %d", c)
	}

	// A role change applies to the open session at once.
	if err := e.a.SetRole("vendor", "staff", RoleAuditor); err != nil {
		t.Fatal(err)
	}
	if c := staff.act(StartDrill); c != http.StatusForbidden {
		t.Errorf("demoted staff StartDrill: %d", c)
	}
	if r := e.audits(AuditUserRole); len(r) != 1 || r[0].actor != "vendor" {
		t.Errorf("role audit: %+v", r)
	}
	e.assertNoSecrets(adminPW, staffPW, audPW)
}

func TestLastAdminStays(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	e.addUser("staff", RoleStaff, staffPW)
	if err := e.a.RemoveUser("vendor", "vendor"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("remove last admin: %v", err)
	}
	if err := e.a.SetRole("vendor", "vendor", RoleStaff); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demote last admin: %v", err)
	}
	if u, _ := e.a.User("vendor"); u.Role != RoleVendorAdmin {
		t.Errorf("last admin changed: %+v", u)
	}
	bilingual(t, ErrLastAdmin.Error(), "最後の保守ベンダ管理者", "last vendor admin")

	e.addUser("vendor2", RoleVendorAdmin, adminPW+"2")
	b := e.browser("192.0.2.40")
	b.mustLogin("vendor", adminPW)
	if err := e.a.RemoveUser("vendor2", "vendor"); err != nil {
		t.Fatalf("remove one of two admins: %v", err)
	}
	if c := b.do("GET", "/act/view_status", nil, nil).Code; c != http.StatusUnauthorized {
		t.Errorf("removed user's session still works: %d", c)
	}
	// The change is on disk.
	again, err := New(Options{Dir: e.dir, Params: testParams()})
	if err != nil {
		t.Fatal(err)
	}
	if us := again.Users(); len(us) != 2 || us[0].Name != "staff" || us[1].Name != "vendor2" {
		t.Errorf("users after reopen: %+v", us)
	}
	if len(e.audits(AuditUserRemove)) != 1 || len(e.audits(AuditUserAdd)) != 3 {
		t.Errorf("user audits: %+v", e.audit)
	}
}

func TestSessionExpiryAndLogout(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.IdleTimeout = 30 * time.Minute; o.MaxLifetime = 2 * time.Hour })
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.50")
	get := func() int { return b.do("GET", "/act/view_status", nil, nil).Code }

	b.mustLogin("vendor", adminPW)
	e.clk.Add(29 * time.Minute)
	if c := get(); c != http.StatusOK {
		t.Fatalf("within idle timeout: %d", c)
	}
	e.clk.Add(30 * time.Minute)
	if c := get(); c != http.StatusUnauthorized {
		t.Errorf("after idle timeout: %d", c)
	}

	b.mustLogin("vendor", adminPW)
	for i := 0; i < 5; i++ { // active every 20 min: 1h40m
		e.clk.Add(20 * time.Minute)
		if c := get(); c != http.StatusOK {
			t.Fatalf("active session at step %d: %d", i, c)
		}
	}
	e.clk.Add(20 * time.Minute) // 2h: absolute lifetime reached
	if c := get(); c != http.StatusUnauthorized {
		t.Errorf("after absolute lifetime: %d", c)
	}

	b.mustLogin("vendor", adminPW)
	old := *b.jar[SessionCookie]
	w := b.do("POST", LogoutPath, url.Values{CSRFField: {b.csrf()}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != LoginPath {
		t.Fatalf("logout: %d %q", w.Code, w.Header().Get("Location"))
	}
	if b.jar[SessionCookie] != nil {
		t.Error("logout did not clear the cookie")
	}
	b.jar[SessionCookie] = &old // a stolen copy of the cookie is dead too
	if c := get(); c != http.StatusUnauthorized {
		t.Errorf("old cookie after logout: %d", c)
	}
	if l := e.audits(AuditLogout); len(l) != 1 || l[0].actor != "vendor" {
		t.Errorf("logout audit: %+v", l)
	}
	if c := b.do("GET", LogoutPath, nil, nil).Code; c != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d", c)
	}
	e.assertNoSecrets(adminPW, old.Value)
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.60")
	b.mustLogin("vendor", adminPW)
	newPW := "a-brand-new-passphrase"
	if err := e.a.ChangeOwnPassword(context.Background(), "vendor", "wrong-current-pw", newPW, "192.0.2.60"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("change with wrong current password: %v", err)
	}
	if err := e.a.ChangeOwnPassword(context.Background(), "vendor", adminPW, newPW, "192.0.2.60"); err != nil {
		t.Fatal(err)
	}
	if c := b.do("GET", "/act/view_status", nil, nil).Code; c != http.StatusUnauthorized {
		t.Errorf("session after password change: %d", c)
	}
	if c := b.login("vendor", adminPW).Code; c != http.StatusUnauthorized {
		t.Errorf("old password: %d", c)
	}
	b.mustLogin("vendor", newPW)
	if p := e.audits(AuditUserPassword); len(p) != 1 || p[0].actor != "vendor" {
		t.Errorf("password audit: %+v", p)
	}
	e.assertNoSecrets(adminPW, newPW)
}

func TestPasswordsStoredAsArgon2id(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	e.addUser("staff", RoleStaff, staffPW)
	path := filepath.Join(e.dir, UsersFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(path)
	for _, pw := range []string{adminPW, staffPW} {
		if bytes.Contains(raw, []byte(pw)) {
			t.Errorf("users file contains the plaintext password %q", pw)
		}
	}
	var f struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, u := range f.Users {
		h, _ := u["hash"].(string)
		hashes = append(hashes, h)
		parts := strings.Split(h, "$")
		if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=64,t=1,p=1" {
			t.Fatalf("not a PHC argon2id string with the injected parameters: %q", h)
		}
		salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
		key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
		if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
			t.Fatalf("salt/key of %q", h)
		}
		pw := map[string]string{"vendor": adminPW, "staff": staffPW}[u["name"].(string)]
		if subtle.ConstantTimeCompare(argon2.IDKey([]byte(pw), salt, 1, 64, 1, 32), key) != 1 {
			t.Errorf("hash of %v does not verify with argon2id", u["name"])
		}
	}
	if hashes[0] == hashes[1] || len(e.a.Users()) != 2 {
		t.Error("hashes must be salted")
	}
	// Nothing the API returns carries the hash.
	js, _ := json.Marshal(e.a.Users())
	for _, h := range hashes {
		if strings.Contains(string(js), h) {
			t.Error("Users() exposes a hash")
		}
	}
	b := e.browser("192.0.2.70")
	b.mustLogin("vendor", adminPW)
	b.login("staff", "bad-password-here")
	e.assertNoSecrets(append(hashes, adminPW, staffPW)...)
	if d := DefaultParams(); d.Memory != 64*1024 || d.Time != 3 || d.Threads != 2 {
		t.Errorf("production parameters: %+v", d)
	}
}

func TestRaisedParamsRehashAtLogin(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	stronger := testParams()
	stronger.Memory, stronger.Time = 128, 2
	a2, err := New(Options{Dir: e.dir, Params: stronger, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.a = a2
	mux := http.NewServeMux()
	mux.Handle(LoginPath, a2.LoginHandler())
	e.h = a2.Middleware(mux)
	e.browser("192.0.2.80").mustLogin("vendor", adminPW)
	u, _ := a2.users.get("vendor")
	p, _, _, err := decodeHash(u.Hash)
	if err != nil || p != stronger {
		t.Errorf("after login with raised costs: %+v %v", p, err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, UsersFile))
	if !bytes.Contains(raw, []byte("m=128,t=2,p=1")) {
		t.Error("re-hash not saved")
	}
}

func TestPasswordPolicy(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	err := e.a.AddUser(context.Background(), "vendor", "short", RoleStaff, "elevenchars")
	if !errors.Is(err, ErrPasswordTooShort) {
		t.Fatalf("11 characters: %v", err)
	}
	bilingual(t, err.Error(), "パスワードは12文字以上", "at least 12 characters")
	// Twelve Japanese characters count as twelve, not as 36 bytes or too few.
	if err := e.a.AddUser(context.Background(), "vendor", "kanji", RoleStaff, "断線断線断線断線断線断線"); err != nil {
		t.Errorf("12 kanji: %v", err)
	}
	if err := e.a.AddUser(context.Background(), "vendor", "kanji2", RoleStaff, "断線断線断線断線断線断"); !errors.Is(err, ErrPasswordTooShort) {
		t.Errorf("11 kanji: %v", err)
	}
	if err := e.a.AddUser(context.Background(), "vendor", "Bad Name", RoleStaff, adminPW); !errors.Is(err, ErrInvalidUserName) {
		t.Errorf("bad name: %v", err)
	}
	if err := e.a.AddUser(context.Background(), "vendor", "VENDOR", RoleStaff, adminPW); !errors.Is(err, ErrUserExists) {
		t.Errorf("duplicate (case-insensitive) name: %v", err)
	}
	if err := e.a.AddUser(context.Background(), "vendor", "x", "root", adminPW); !errors.Is(err, ErrInvalidRole) {
		t.Errorf("bad role: %v", err)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/status?x=1":          "/status?x=1",
		"":                     "/",
		"//evil.example/":      "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		"/login":               "/",
		"/a\r\nSet-Cookie: x":  "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.90")
	g := b.do("GET", LoginPath+"?next=//evil.example/", nil, nil)
	w := b.do("POST", LoginPath, url.Values{"username": {"vendor"}, "password": {adminPW}, CSRFField: {formToken(t, g.Body.String())}, "next": {"//evil.example/"}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Errorf("open redirect: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestHashingIsBounded(t *testing.T) {
	e := newEnv(t, nil)
	e.a.hashSem <- struct{}{} // a hash in progress
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.a.authenticate(ctx, "vendor", adminPW, "192.0.2.1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second concurrent hash: %v", err)
	}
	<-e.a.hashSem
}

// BenchmarkHash measures one hash with the production costs and two
// lighter OWASP-listed ones, to judge the costs on the appliance:
// GOARCH=arm64 go test -c ./auth, copy auth.test to the Pi, run
// ./auth.test -test.run '^$' -test.bench Hash -test.benchmem.
func BenchmarkHash(b *testing.B) {
	for _, c := range []struct {
		name string
		p    Params
	}{
		{"m64MiB_t3_p2", DefaultParams()},
		{"m46MiB_t1_p1", Params{Memory: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"m19MiB_t2_p1", Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := hashPassword(adminPW, c.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLanguageChoice: the login and setup pages follow the browser's
// choice (a cookie); a signed-in user's choice is kept on the account and
// follows them to another browser; users.json without the field loads,
// and such users read the browser's choice, else Japanese.
func TestLanguageChoice(t *testing.T) {
	e := newEnv(t, nil)
	setup := e.browser("192.0.2.5")
	inJapanese(t, setup.do("GET", SetupPath, nil, http.Header{"Accept": {"text/html"}}).Body.String(), "セットアップコード", "Setup code")
	inEnglish(t, setup.do("GET", SetupPath+"?lang=en", nil, http.Header{"Accept": {"text/html"}}).Body.String(), "Setup code")
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	e.addUser("staff", RoleStaff, staffPW)

	b := e.browser("192.0.2.10")
	page := b.do("GET", LoginPath, nil, http.Header{"Accept": {"text/html"}}).Body.String()
	inJapanese(t, page, "ユーザー名", "User name")
	if !strings.Contains(page, `href="/login?lang=en"`) {
		t.Errorf("no switch to English on the login page:\n%s", page)
	}
	inEnglish(t, b.do("GET", LoginPath+"?lang=en&next=%2Fhistory", nil, http.Header{"Accept": {"text/html"}}).Body.String(), "User name")
	if c := b.jar[LangCookie]; c == nil || c.Value != "en" {
		t.Fatalf("the choice before sign-in is not kept: %+v", c)
	}
	inEnglish(t, b.login("vendor", "wrong-password-000").Body.String(), "Wrong user name or password")
	b.mustLogin("vendor", adminPW)
	if got := b.do("GET", "/lang", nil, nil).Body.String(); got != "en" {
		t.Errorf("a user who never chose reads the login page's language: got %s", got)
	}
	if sw := b.do("GET", "/act/manage_users?lang=ja", nil, nil); sw.Code != http.StatusOK {
		t.Fatalf("switch while signed in: %d", sw.Code)
	}
	if u, _ := e.a.User("vendor"); u.Lang != "ja" {
		t.Errorf("the switch while signed in is not kept on the account: %q", u.Lang)
	}
	if c := b.jar[LangCookie]; c == nil || c.Value != "en" {
		t.Errorf("the switch while signed in changed the browser's cookie: %+v", c)
	}
	// The account's choice follows the person to a browser that chose English.
	if got := b.do("GET", "/lang", nil, nil).Body.String(); got != "ja" {
		t.Errorf("after the switch: %s", got)
	}
	other := e.browser("192.0.2.11")
	other.mustLogin("staff", staffPW)
	if got := other.do("GET", "/lang?lang=en", nil, nil).Body.String(); got != "en" {
		t.Errorf("staff's switch: %s", got)
	}
	inEnglish(t, other.do("GET", "/act/edit_config", nil, http.Header{"Accept": {"text/html"}}).Body.String(), "You are not allowed")
	fresh := e.browser("192.0.2.12")
	fresh.mustLogin("staff", staffPW)
	if got := fresh.do("GET", "/lang", nil, nil).Body.String(); got != "en" {
		t.Errorf("the account's choice does not follow the user to another browser: %s", got)
	}
	raw, err := os.ReadFile(filepath.Join(e.dir, UsersFile))
	if err != nil || !bytes.Contains(raw, []byte(`"lang": "en"`)) {
		t.Fatalf("users.json does not keep the choice: %v\n%s", err, raw)
	}
}

// TestUsersFileWithoutLanguageLoads: users.json written before the
// language existed (and one hand-edited to a language the page does not
// have) loads; those users read Japanese.
func TestUsersFileWithoutLanguageLoads(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	e.addUser("staff", RoleStaff, staffPW)
	for _, name := range []string{"vendor", "staff"} {
		b := e.browser("192.0.2.20")
		b.mustLogin(name, map[string]string{"vendor": adminPW, "staff": staffPW}[name])
		b.do("GET", "/lang?lang=en", nil, nil)
	}
	raw, err := os.ReadFile(filepath.Join(e.dir, UsersFile))
	if err != nil || bytes.Count(raw, []byte(`"lang": "en"`)) != 2 {
		t.Fatalf("users.json before: %v\n%s", err, raw)
	}
	var f struct {
		Version int              `json:"version"`
		Users   []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for _, u := range f.Users {
		delete(u, "lang")
		if u["name"] == "staff" {
			u["lang"] = "fr"
		}
	}
	old, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, UsersFile), old, 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, func(o *Options) { o.Dir = e.dir })
	for _, name := range []string{"vendor", "staff"} {
		b := e2.browser("192.0.2.20")
		b.mustLogin(name, map[string]string{"vendor": adminPW, "staff": staffPW}[name])
		if got := b.do("GET", "/lang", nil, nil).Body.String(); got != "ja" {
			t.Errorf("%s from an old users.json reads %s, want ja", name, got)
		}
	}
}
