package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/ledger"
)

// noPassword leaves the password typed again empty.
var noPassword = url.Values{"reauth_password": {""}}

func with(f url.Values, extra url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// guarded are the ledger's guarded entries of op.
func guarded(t *testing.T, e *env, op string) []ledger.GuardedData {
	t.Helper()
	var out []ledger.GuardedData
	for _, en := range e.entries(ledger.KindGuarded) {
		d, err := ledger.Decode[ledger.GuardedData](en)
		if err != nil {
			t.Fatal(err)
		}
		if d.Op == op {
			out = append(out, d)
		}
	}
	return out
}

// refused: the page said the password is needed, in the page's language.
func refused(t *testing.T, what string, r resp) {
	t.Helper()
	if r.code != http.StatusOK || !strings.Contains(r.body, "パスワードをもう一度入力してください") {
		t.Fatalf("%s without the password: %d\n%s", what, r.code, r.body)
	}
}

// recordedFrom: op was recorded once, by admin's session from the test's
// client address.
func recordedFrom(t *testing.T, e *env, op string) {
	t.Helper()
	ds := guarded(t, e, op)
	if len(ds) != 1 || ds[0].From != "127.0.0.1" {
		t.Fatalf("%s not recorded with the client address: %+v", op, ds)
	}
}

func TestRetentionChangeNeedsThePasswordAndShorteningWaits(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	f := generalForm(t, c, map[string]string{"retention.keep_last": "9"})
	r := c.post("/config/general", with(f, noPassword))
	refused(t, "lengthening retention", r)
	if !strings.Contains(r.body, `value="9"`) || e.g.Config().Retention.KeepLast != 5 {
		t.Fatal("a refused form lost what was typed or changed the configuration")
	}
	if r := c.post("/config/general?lang=en", with(f, url.Values{"reauth_password": {"wrong-password"}})); !strings.Contains(r.body, "password typed again") {
		t.Fatalf("the English refusal: %s", r.body)
	}
	c.get("/?lang=ja")
	if r := c.post("/config/general", f); r.code != http.StatusSeeOther || e.g.Config().Retention.KeepLast != 9 {
		t.Fatalf("lengthening with the password: %d %d", r.code, e.g.Config().Retention.KeepLast)
	}
	recordedFrom(t, e, "retention.change")

	// Keeping less waits, is shown with its date, and is cancelled with
	// the password typed again.
	r = c.post("/config/general", generalForm(t, c, map[string]string{"retention.keep_last": "1"}))
	if r.code != http.StatusSeeOther || r.location != "/config?done=held" || e.g.Config().Retention.KeepLast != 9 {
		t.Fatalf("shortening: %d %s, keep_last %d", r.code, r.location, e.g.Config().Retention.KeepLast)
	}
	ps, err := e.g.PendingChanges()
	if err != nil || len(ps) != 1 || ps[0].From != "127.0.0.1" {
		t.Fatalf("pending %+v %v", ps, err)
	}
	if d := guarded(t, e, "shorten.pending"); len(d) != 1 || d[0].From != "127.0.0.1" {
		t.Fatalf("the held change is not recorded with where it came from: %+v", d)
	}
	for _, path := range []string{"/", "/config"} {
		if page := c.get(path).body; !strings.Contains(page, "retention.keep_last を 9 から 1 に") || !strings.Contains(page, "適用予定") {
			t.Fatalf("%s does not show the pending change:\n%s", path, page)
		}
	}
	cancel := "/config/pending/" + ps[0].ID + "/cancel"
	refused(t, "cancelling", c.post(cancel, noPassword))
	if ps, _ := e.g.PendingChanges(); len(ps) != 1 {
		t.Fatal("cancelled without the password")
	}
	if r := c.post(cancel, nil); r.code != http.StatusSeeOther || r.location != "/config?done=cancelled" {
		t.Fatalf("cancel: %d %s", r.code, r.location)
	}
	if ps, _ := e.g.PendingChanges(); len(ps) != 0 {
		t.Fatal("not cancelled")
	}
	recordedFrom(t, e, "shorten.cancelled")
	if strings.Contains(c.get("/").body, `id="pending-banner"`) {
		t.Fatal("the banner stays after the cancel")
	}
}

func TestDeletingNeedsThePassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	post := func(path string, f url.Values) resp {
		f.Set("base", c.base())
		return c.post(path, f)
	}
	for _, name := range []string{"r1", "r2"} {
		if r := post("/config/relay", url.Values{"orig": {""}, "name": {name}, "driver": {"simulated"}, "line": {"0"}, "sense.line": {"1"}, "sense": {"on"}}); r.code != http.StatusSeeOther {
			t.Fatalf("adding a relay needs no password: %d\n%s", r.code, r.body)
		}
	}
	medium := url.Values{"orig": {""}, "name": {"disk-a"}, "type": {"disk"}, "relay": {"r1"}, "disk.fs_uuid": {"0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d"}, "disk.media_id": {"DANZEN-A"}}
	if r := post("/config/medium", medium); r.code != http.StatusSeeOther {
		t.Fatalf("add medium: %d\n%s", r.code, r.body)
	}

	// Changing a relay.
	rename := url.Values{"orig": {"r2"}, "name": {"r3"}, "driver": {"simulated"}, "line": {"2"}, "sense.line": {"3"}, "sense": {"on"}}
	r := post("/config/relay", with(rename, noPassword))
	refused(t, "changing a relay", r)
	if !strings.Contains(r.body, `value="r3"`) || len(e.g.Config().Relays) != 2 || e.g.Config().Relays[1].Name != "r2" {
		t.Fatal("a refused relay change lost what was typed or changed the relay")
	}
	if r := post("/config/relay", rename); r.code != http.StatusSeeOther || e.g.Config().Relays[1].Name != "r3" {
		t.Fatalf("relay change with the password: %d", r.code)
	}
	recordedFrom(t, e, "relay.change")

	// Deleting a medium: guarded, then held by the gateway.
	refused(t, "deleting a medium", post("/config/medium/delete", with(url.Values{"orig": {"disk-a"}}, noPassword)))
	if ps, _ := e.g.PendingChanges(); len(ps) != 0 {
		t.Fatal("a refused delete was held")
	}
	if r := post("/config/medium/delete", url.Values{"orig": {"disk-a"}}); r.code != http.StatusSeeOther || r.location != "/config?done=held" {
		t.Fatalf("delete medium with the password: %d %s", r.code, r.location)
	}
	recordedFrom(t, e, "medium.delete")
	if ps, _ := e.g.PendingChanges(); len(ps) != 1 || ps[0].Changes[0].Medium != "disk-a" {
		t.Fatalf("the removal is not held: %+v", ps)
	}

	// Deleting a user.
	e.addUser("ito", auth.RoleStaff)
	r = c.post("/users/delete", with(url.Values{"name": {"ito"}}, noPassword))
	refused(t, "deleting a user", r)
	if _, ok := e.a.User("ito"); !ok {
		t.Fatal("a user was deleted without the password")
	}
	if r := c.post("/users/delete", url.Values{"name": {"ito"}}); r.code != http.StatusSeeOther {
		t.Fatalf("delete user: %d\n%s", r.code, r.body)
	}
	if _, ok := e.a.User("ito"); ok {
		t.Fatal("not deleted")
	}
	recordedFrom(t, e, "user.delete")
}

func TestAcceptingAChangedHostKeyNeedsThePassword(t *testing.T) {
	p := pinSourceOnPage(t)
	p.srv.key.Store(new(newSSHKey(t)))
	f := p.form("save")
	f.Set("pin_fp", p.srv.fingerprint())
	f.Set("pin_confirm", "on")
	r := p.post(with(f, noPassword))
	refused(t, "accepting a changed host key", r)
	if !strings.Contains(r.body, `id="pin-confirm"`) {
		t.Fatal("the refused form lost the comparison")
	}
	if src, _ := p.e.g.Config().Source("emr"); len(src.KnownHosts) != 1 || len(p.e.entries(ledger.KindHostKeyReplaced)) != 0 {
		t.Fatal("a changed key was accepted without the password")
	}
	if r := p.post(f); r.code != http.StatusSeeOther {
		t.Fatalf("with the password: %d\n%s", r.code, r.body)
	}
	recordedFrom(t, p.e, "hostkey.accept")
}
