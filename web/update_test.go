package web_test

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/sysupdate/sysupdatetest"
)

// TestFirmwareUpdatePage: the page shows the pinned key; an upload needs
// the CSRF token, the vendor admin's role and the password typed again;
// a bundle not signed with the pinned key is refused with the reason and
// nothing is switched; the vendor's bundle is written and the gateway
// restarts.
func TestFirmwareUpdatePage(t *testing.T) {
	pub, priv := sysupdatetest.Key(t)
	_, stranger := sysupdatetest.Key(t)
	dev := sysupdatetest.NewDevice()
	e := newEnv(t, envOptions{update: gateway.UpdateOptions{ImageInfo: sysupdatetest.Image(t, pub), Device: dev, RebootDelay: time.Millisecond}})
	admin := e.login("admin", adminPW)
	page := admin.get("/system/update?lang=en")
	if page.code != http.StatusOK || !strings.Contains(page.body, `<code id="update-key">`+bundle.KeyID(pub)+`</code>`) ||
		!strings.Contains(page.body, "not on the network") {
		t.Fatalf("update page: %d\n%s", page.code, page.body)
	}
	root := bytes.Repeat([]byte("r"), 300000)
	bundleOf := func(key ed25519.PrivateKey) []byte { return sysupdatetest.Bundle(t, key, root) }
	admin.csrf = formToken(t, admin.get("/account").body)
	put := func(c *client, body []byte, password string, csrf bool) resp {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, e.srv.URL+"/system/update?lang=en", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if csrf {
			req.Header.Set(auth.CSRFHeader, c.csrf)
		}
		req.Header.Set("X-Danzen-Password", password)
		return c.send(req)
	}
	if r := put(admin, bundleOf(priv), adminPW, false); r.code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", r.code)
	}
	if r := put(admin, bundleOf(priv), "wrong-password-000", true); r.code != http.StatusForbidden || !strings.Contains(r.body, "password could not be confirmed") {
		t.Errorf("wrong password: %d %s", r.code, r.body)
	}
	staff := e.addUser("nurse", auth.RoleStaff)
	staff.csrf = formToken(t, staff.get("/account").body)
	if r := put(staff, bundleOf(priv), "nurse-password-0123", true); r.code != http.StatusForbidden {
		t.Errorf("hospital staff: %d", r.code)
	}
	if parts, sw := dev.State(); len(parts) != 0 || sw {
		t.Fatalf("written %v, switched %v before any accepted upload", parts, sw)
	}
	r := put(admin, bundleOf(stranger), adminPW, true)
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "not signed with this gateway's key "+bundle.KeyID(pub)) || !strings.Contains(r.body, "the current firmware stays") {
		t.Fatalf("another key: %d %s", r.code, r.body)
	}
	if parts, sw := dev.State(); len(parts) != 0 || sw {
		t.Fatalf("a refused bundle wrote %v (switched %v)", parts, sw)
	}
	if got := e.entries(ledger.KindUpdateRefused); len(got) != 1 || got[0].Actor != "admin" {
		t.Fatalf("refusals recorded: %+v", got)
	}
	if !strings.Contains(admin.get("/system/update?lang=en").body, "firmware update refused") {
		t.Error("the refusal is not listed on the page")
	}
	r = put(admin, bundleOf(priv), adminPW, true)
	if r.code != http.StatusOK || !strings.Contains(r.body, "the gateway restarts now") {
		t.Fatalf("signed bundle: %d %s", r.code, r.body)
	}
	select {
	case <-dev.Rebooted:
	case <-time.After(10 * time.Second):
		t.Fatal("no restart")
	}
	if _, sw := dev.State(); !sw {
		t.Fatal("not switched")
	}
}

// Without an image description (danzend on a PC) the page says why no
// update is taken and offers no form.
func TestFirmwareUpdateUnavailable(t *testing.T) {
	e := newEnv(t, envOptions{update: gateway.UpdateOptions{ImageInfo: filepath.Join(t.TempDir(), "none.json")}})
	page := e.login("admin", adminPW).get("/system/update?lang=en")
	if page.code != http.StatusOK || !strings.Contains(page.body, `id="update-unavailable"`) || !strings.Contains(page.body, "no update can be taken here") ||
		strings.Contains(page.body, `id="update-form"`) {
		t.Fatalf("update page without an image: %d\n%s", page.code, page.body)
	}
}
