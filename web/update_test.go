package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/sysupdate"
)

// updateDevice is gokrazy's update side behind the gateway.
type updateDevice struct {
	mu       sync.Mutex
	written  int64
	switched bool
	rebooted chan struct{}
}

func (d *updateDevice) StreamTo(_ context.Context, _ string, r io.Reader, _ bool) (int64, error) {
	n, err := io.Copy(io.Discard, r)
	d.mu.Lock()
	d.written += n
	d.mu.Unlock()
	return n, err
}

func (d *updateDevice) Switch(context.Context) error {
	d.mu.Lock()
	d.switched = true
	d.mu.Unlock()
	return nil
}

func (d *updateDevice) Reboot(context.Context) error { close(d.rebooted); return nil }

func (d *updateDevice) state() (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.written, d.switched
}

// TestFirmwareUpdatePage: the page shows the pinned key; an upload needs
// the CSRF token, the vendor admin's role and the password typed again;
// a bundle not signed with the pinned key is refused with the reason and
// nothing is switched; the vendor's bundle is written and the gateway
// restarts.
func TestFirmwareUpdatePage(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	running := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	info, err := json.Marshal(sysupdate.ImageInfo{Arch: "amd64", Build: running, UpdateKey: base64.StdEncoding.EncodeToString(pub)})
	if err != nil {
		t.Fatal(err)
	}
	infoPath := filepath.Join(t.TempDir(), "image.json")
	if err := os.WriteFile(infoPath, info, 0o444); err != nil {
		t.Fatal(err)
	}
	dev := &updateDevice{rebooted: make(chan struct{})}
	e := newEnv(t, envOptions{update: gateway.UpdateOptions{ImageInfo: infoPath, Device: dev, RebootDelay: time.Millisecond}})
	admin := e.login("admin", adminPW)
	page := admin.get("/system/update?lang=en")
	if page.code != http.StatusOK || !strings.Contains(page.body, `<code id="update-key">`+bundle.KeyID(pub)+`</code>`) ||
		!strings.Contains(page.body, "not on the network") {
		t.Fatalf("update page: %d\n%s", page.code, page.body)
	}
	bundleOf := func(key ed25519.PrivateKey) []byte {
		var b bytes.Buffer
		root := bytes.Repeat([]byte("r"), 300000)
		src := bundle.Source{Name: bundle.Root, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(root)), nil }}
		if err := bundle.Write(&b, key, "amd64", running.Add(time.Hour), []bundle.Source{src}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
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
	_, stranger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
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
	if n, sw := dev.state(); n != 0 || sw {
		t.Fatalf("written %d bytes, switched %v before any accepted upload", n, sw)
	}
	r := put(admin, bundleOf(stranger), adminPW, true)
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "not signed with this gateway's key "+bundle.KeyID(pub)) || !strings.Contains(r.body, "the current firmware stays") {
		t.Fatalf("another key: %d %s", r.code, r.body)
	}
	if n, sw := dev.state(); n != 0 || sw {
		t.Fatalf("a refused bundle wrote %d bytes (switched %v)", n, sw)
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
	case <-dev.rebooted:
	case <-time.After(10 * time.Second):
		t.Fatal("no restart")
	}
	if _, sw := dev.state(); !sw {
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
