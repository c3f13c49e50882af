package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/ledger"
)

// pinnedOnPage is a source pinned through the page, and the server whose
// key it pinned.
type pinnedOnPage struct {
	e      *env
	c      *client
	srv    *sshServer
	old    ssh.Signer // the key pinned first
	pinned ledger.Entry
}

func (p *pinnedOnPage) post(f url.Values) resp {
	f.Set("base", p.c.base())
	return p.c.post("/config/source", f)
}

func pinSourceOnPage(t *testing.T) *pinnedOnPage {
	t.Helper()
	p := &pinnedOnPage{srv: startSSH(t), e: newEnv(t, envOptions{})}
	p.c = p.e.login("admin", adminPW)
	p.old = *p.srv.key.Load()
	f := sourceForm(p.srv.port, "save")
	f.Set("pin_fp", p.srv.fingerprint())
	f.Set("pin_confirm", "on")
	if r := p.post(f); r.code != http.StatusSeeOther {
		t.Fatalf("first pin: %d\n%s", r.code, r.body)
	}
	pins := p.e.entries(ledger.KindHostKeyPinned)
	if len(pins) != 1 {
		t.Fatalf("first pin recorded %d times", len(pins))
	}
	p.pinned = pins[0]
	return p
}

func (p *pinnedOnPage) form(op string) url.Values {
	f := sourceForm(p.srv.port, op)
	f.Set("orig", "emr")
	return f
}

var pinChangedRE = regexp.MustCompile(`(?s)<div class="pin changed" id="pin-changed">.*?</div>`)

// TestPageShowsAChangedHostKeyAsChanged: fetching a key other than the
// pinned one never looks like a first pin: the page says CHANGED, in red,
// with the pinned and the offered fingerprints and when the pinned one
// was pinned; nothing is changed by looking.
func TestPageShowsAChangedHostKeyAsChanged(t *testing.T) {
	p := pinSourceOnPage(t)
	oldFP := p.srv.fingerprint()
	p.srv.key.Store(new(newSSHKey(t)))
	r := p.post(p.form("fetch"))
	box := htmlUnescape(pinChangedRE.FindString(r.body))
	if box == "" {
		t.Fatalf("a changed key is not shown as changed:\n%s", r.body)
	}
	for _, want := range []string{"CHANGED", "変更", oldFP, p.srv.fingerprint(), p.pinned.Time.Format("04:05")} {
		if !strings.Contains(box, want) {
			t.Errorf("the CHANGED box lacks %q:\n%s", want, box)
		}
	}
	if !strings.Contains(box, `class="bad"`) {
		t.Errorf("the CHANGED box is not marked red (class bad):\n%s", box)
	}
	src, err := p.e.g.Config().Source("emr")
	if err != nil || len(src.KnownHosts) != 1 || !strings.Contains(src.KnownHosts[0], keyText(p.old)) {
		t.Fatalf("fetching changed the pinned keys: %v %q", err, src.KnownHosts)
	}
	// The key pinned now is not shown as changed.
	p.srv.key.Store(&p.old)
	if r := p.post(p.form("fetch")); pinChangedRE.MatchString(r.body) || !strings.Contains(htmlUnescape(r.body), oldFP) {
		t.Fatalf("the pinned key is shown as changed, or not at all:\n%s", r.body)
	}
}

// TestPageRotationRetiresTheOldHostKey: confirming a changed key on the
// page replaces the pinned one, records who retired which key (and when
// it was pinned), and a server presenting the retired key afterwards is
// refused before anything is read.
func TestPageRotationRetiresTheOldHostKey(t *testing.T) {
	p := pinSourceOnPage(t)
	oldFP := p.srv.fingerprint()
	p.srv.key.Store(new(newSSHKey(t)))
	f := p.form("save")
	f.Set("pin_fp", p.srv.fingerprint())
	f.Set("pin_confirm", "on")
	if r := p.post(f); r.code != http.StatusSeeOther {
		t.Fatalf("confirming the changed key: %d\n%s", r.code, r.body)
	}
	src, err := p.e.g.Config().Source("emr")
	want := knownhosts.Line([]string{knownhosts.Normalize(p.srv.addr)}, (*p.srv.key.Load()).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if len(src.KnownHosts) != 1 || src.KnownHosts[0] != want {
		t.Errorf("after rotation the source pins %q, want only [%s]", src.KnownHosts, want)
	}
	rep := p.e.entries(ledger.KindHostKeyReplaced)
	if len(rep) != 1 || rep[0].Actor != "admin" {
		t.Errorf("the rotation is not recorded once by admin: %+v", rep)
	} else if d, err := ledger.Decode[ledger.HostKeyReplacedData](rep[0]); err != nil || d.Source != "emr" || d.Retired != oldFP || d.Fingerprint != p.srv.fingerprint() ||
		d.Host != p.srv.addr || !d.PinnedAt.Equal(p.pinned.Time) || d.RetiredType != p.old.PublicKey().Type() {
		t.Errorf("hostkey.replaced: %+v (%v), want %s retired (pinned %s) for %s", d, err, oldFP, p.pinned.Time, p.srv.fingerprint())
	}
	if ov := htmlUnescape(p.c.get("/config").body); !strings.Contains(ov, oldFP) || !strings.Contains(ov, p.srv.fingerprint()) {
		t.Errorf("the overview's recent changes do not show the rotation")
	}

	// An impostor presents the retired key on the same address.
	p.srv.key.Store(&p.old)
	keyFile := filepath.Join(t.TempDir(), "client.key")
	if err := os.WriteFile(keyFile, privateKeyPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := pull.Connect(t.Context(), *src, keyFile)
	if err == nil {
		_ = conn.Close() // the test fails below either way
	}
	var hk *pull.HostKeyError
	if !errors.As(err, &hk) || !hk.Changed || hk.Fingerprint != oldFP {
		t.Fatalf("a server presenting the retired key was not refused as changed: %v", err)
	}
}

func keyText(s ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}
