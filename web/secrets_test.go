package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/web"
)

// withSecrets configures a source, a relay and a medium whose secret
// files exist, and returns the planted secrets.
func withSecrets(t *testing.T, srv *sshServer, planted *[]string) func(string, *config.Config) {
	return func(dir string, cfg *config.Config) {
		pw := "PLANTED-restic-password-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		key := privateKeyPEM(t)
		*planted = append(append(*planted, pw), secretLines(string(key))...)
		for name, data := range map[string][]byte{"disk-a.restic-password": []byte(pw), "emr.key": key} {
			if err := os.WriteFile(filepath.Join(cfg.SecretsDir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		src := config.DefaultSource()
		src.Name, src.Host, src.Port, src.User, src.KeyFile, src.ExportDir = "emr", "127.0.0.1", srv.port, "danzen-pull", "emr.key", "/export"
		src.KnownHosts = []string{knownhosts.Line([]string{knownhosts.Normalize(srv.addr)}, (*srv.key.Load()).PublicKey())}
		cfg.Sources = []config.Source{src}
		cfg.Relays = []relay.Spec{{Name: "r1", Driver: relay.DriverSimulated}}
		cfg.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: "r1", PasswordFile: "disk-a.restic-password",
			Disk: &disk.Spec{Name: "disk-a", FSUUID: "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d", MediaID: "DANZEN-A", GoneTimeout: disk.Duration(time.Second)}}}
	}
}

// TestNoSecretInAnyResponse plants a restic password, an SSH private key
// and the page's TLS key, visits every page in both languages, submits
// the forms that touch secrets, and greps every body, the ledgers and the
// log for them.
func TestNoSecretInAnyResponse(t *testing.T) {
	srv := startSSH(t)
	var planted []string
	e := newEnv(t, envOptions{configure: withSecrets(t, srv, &planted)})
	tlsPEM, _ := os.ReadFile(filepath.Join(e.dir, "tls", web.CertFile))
	for _, blk := range pemBlocks(tlsPEM) {
		if strings.Contains(blk.Type, "PRIVATE KEY") {
			planted = append(planted, secretLines(string(pem.EncodeToMemory(blk)))...)
		}
	}
	c := e.login("admin", adminPW)
	pages := []string{"/", "/history", "/ledger", "/config", "/config/general", "/config/source?name=emr", "/config/source",
		"/config/relay?name=r1", "/config/relay", "/config/medium?name=disk-a", "/config/medium", "/tls", "/users", "/account", "/metrics"}
	visit := func() {
		for _, p := range pages {
			for _, q := range []string{"", "lang=en"} {
				sep := "?"
				if strings.Contains(p, "?") {
					sep = "&"
				}
				if r := c.get(p + sep + q); r.code != http.StatusOK {
					t.Errorf("GET %s: %d", p, r.code)
				}
			}
		}
		c.get("/?lang=ja")
		readEvents(t, c)
	}
	visit()
	if page := c.get("/config/medium?name=disk-a").body; !strings.Contains(page, "設定済み(0600、内容は表示しません)") {
		t.Error("the password file's presence is not shown")
	}
	if page := c.get("/config/source?name=emr").body; !strings.Contains(page, `id="public-key"`) || !strings.Contains(page, "restrict ssh-ed25519 ") {
		t.Error("the public key for authorized_keys is not shown")
	}
	// Forms that handle secrets: a fetch, a bad save, a bad key (holding
	// the password, which must not be echoed), a generated key.
	f := sourceForm(srv.port, "fetch")
	f.Set("orig", "emr")
	f.Set("base", c.base())
	c.post("/config/source", f)
	f.Set("op", "save")
	f.Set("port", "x")
	c.post("/config/source", f)
	r := c.post("/config/source/key", url.Values{"orig": {"emr"}, "op": {"upload"}, "key": {"-----BEGIN OPENSSH PRIVATE KEY-----\n" + planted[0] + "\n-----END OPENSSH PRIVATE KEY-----"}})
	if !strings.Contains(r.body, "秘密鍵として読めません") {
		t.Errorf("a bad key was not refused: %s", r.body)
	}
	if r := c.post("/config/source/key", url.Values{"orig": {"emr"}, "op": {"generate"}}); r.code != http.StatusSeeOther {
		t.Fatalf("generate: %d %s", r.code, r.body)
	}
	gen, err := os.ReadFile(filepath.Join(e.cfg.SecretsDir, "emr.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(e.cfg.SecretsDir, "emr.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("generated key mode %o", fi.Mode().Perm())
	}
	planted = append(planted, secretLines(string(gen))...)
	uploadTLS(t, c, selfSignedPEM(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), nil))
	visit()

	e.mu.Lock()
	bodies := append([]string(nil), e.bodies...)
	e.mu.Unlock()
	if len(bodies) < 60 {
		t.Fatalf("only %d responses checked", len(bodies))
	}
	for _, s := range planted {
		for _, b := range bodies {
			if strings.Contains(b, s) || strings.Contains(htmlUnescape(b), s) {
				t.Fatalf("a response contains the planted secret %q", s)
			}
		}
		if strings.Contains(e.ledgerText(), s) {
			t.Fatalf("the ledger contains the planted secret %q", s)
		}
		if strings.Contains(e.logs.String(), s) {
			t.Fatalf("the log contains the planted secret %q", s)
		}
	}
	if es := e.entries(ledger.KindSecretReplaced); len(es) != 1 || es[0].Actor != "admin" {
		t.Fatalf("key replacement not recorded: %+v", es)
	}
}

// readEvents reads the first events of the live stream.
func readEvents(t *testing.T, c *client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.e.srv.URL+"/events", nil)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	buf := make([]byte, 64<<10)
	n, _ := io.ReadAtLeast(resp.Body, buf, 100)
	c.e.mu.Lock()
	c.e.bodies = append(c.e.bodies, string(buf[:n]))
	c.e.mu.Unlock()
}

func pemBlocks(raw []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var b *pem.Block
		b, raw = pem.Decode(raw)
		if b == nil {
			return out
		}
		out = append(out, b)
	}
}

type pemPair struct{ cert, key []byte }

// selfSignedPEM makes a certificate valid in [from, until), signed by its
// own key, or by signer's key when given (a key that does not match).
func selfSignedPEM(t *testing.T, from, until time.Time, other *pemPair) pemPair {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "vendor.example"},
		NotBefore: from, NotAfter: until, DNSNames: []string{"danzen"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	p := pemPair{cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}
	if other != nil {
		p.key = other.key
	}
	return p
}

func uploadTLS(t *testing.T, c *client, p pemPair) resp {
	t.Helper()
	if c.csrf == "" {
		c.csrf = formToken(t, c.get("/account").body)
	}
	body, contentType := multipartForm(t, map[string]string{auth.CSRFField: c.csrf}, formFile{"cert", "cert.pem", p.cert}, formFile{"key", "key.pem", p.key})
	req, err := http.NewRequest("POST", c.e.srv.URL+"/tls", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "text/html")
	return c.send(req)
}

func TestCertificateGeneratedAndReplaced(t *testing.T) {
	dir := t.TempDir()
	cs, created, err := web.OpenCertStore(dir, []string{"danzen", "gw1"}, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("192.0.2.10")})
	if err != nil || !created {
		t.Fatalf("generate: %v %v", created, err)
	}
	leaf := cs.Leaf()
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || leaf.PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P256() {
		t.Fatal("not ECDSA P-256")
	}
	if leaf.VerifyHostname("danzen") != nil || leaf.VerifyHostname("gw1") != nil || leaf.VerifyHostname("192.0.2.10") != nil {
		t.Fatalf("SANs: %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	fi, _ := os.Stat(filepath.Join(dir, web.CertFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o", fi.Mode().Perm())
	}
	fp, err := web.Fingerprint(dir)
	if err != nil || fp != cs.Fingerprint() || len(fp) != 95 {
		t.Fatalf("fingerprint %q vs %q: %v", fp, cs.Fingerprint(), err)
	}
	again, created, err := web.OpenCertStore(dir, nil, nil)
	if err != nil || created || again.Fingerprint() != fp {
		t.Fatal("the certificate changed at the second start")
	}

	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	old := e.certs.Fingerprint()
	if page := c.get("/tls").body; !strings.Contains(page, old) {
		t.Fatal("the /tls page does not show the fingerprint")
	}
	good := selfSignedPEM(t, time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour), nil)
	for name, p := range map[string]pemPair{
		"mismatched key": selfSignedPEM(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), &good),
		"expired":        selfSignedPEM(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour), nil),
		"not yet valid":  selfSignedPEM(t, time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour), nil),
		"empty":          {},
	} {
		r := uploadTLS(t, c, p)
		if r.code != http.StatusOK || !strings.Contains(r.body, `id="tls-error"`) || e.certs.Fingerprint() != old {
			t.Errorf("%s: accepted or no message (%d)", name, r.code)
		}
	}
	if r := uploadTLS(t, c, good); r.code != http.StatusSeeOther {
		t.Fatalf("good pair: %d %s", r.code, r.body)
	}
	block, _ := pem.Decode(good.cert)
	want, _ := x509.ParseCertificate(block.Bytes)
	if e.certs.Leaf().Subject.CommonName != want.Subject.CommonName {
		t.Fatal("the new certificate is not in use")
	}
	reopened, _, err := web.OpenCertStore(filepath.Join(e.dir, "tls"), nil, nil)
	if err != nil || reopened.Fingerprint() != e.certs.Fingerprint() {
		t.Fatalf("the new certificate was not stored: %v", err)
	}
	if es := e.entries(ledger.KindCertReplaced); len(es) != 1 || es[0].Actor != "admin" {
		t.Fatalf("replacement not recorded: %+v", es)
	}
}

func TestSourceKeyReplacement(t *testing.T) {
	srv := startSSH(t)
	var planted []string
	e := newEnv(t, envOptions{configure: withSecrets(t, srv, &planted)})
	c := e.login("admin", adminPW)
	key := privateKeyPEM(t)
	if r := c.post("/config/source/key", url.Values{"orig": {"emr"}, "op": {"upload"}, "key": {string(key)}}); r.code != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	got, _ := os.ReadFile(filepath.Join(e.cfg.SecretsDir, "emr.key"))
	signer, err := ssh.ParsePrivateKey(got)
	want, _ := ssh.ParsePrivateKey(key)
	if err != nil || !bytes.Equal(signer.PublicKey().Marshal(), want.PublicKey().Marshal()) {
		t.Fatal("the uploaded key was not stored")
	}
	page := c.get("/config/source?name=emr").body
	if !strings.Contains(htmlUnescape(page), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(want.PublicKey())))) {
		t.Fatal("the page does not show the new public key")
	}
	// The page never writes outside secrets/ or over auth's files.
	for _, name := range []string{auth.UsersFile, "../config.json", "disk-a.restic-password"} {
		cfg := *e.g.Config()
		cfg.Sources = append([]config.Source(nil), cfg.Sources...)
		cfg.Sources[0].KeyFile = name
		err := e.g.Reconfigure(context.Background(), "test", &cfg)
		if strings.Contains(name, "/") {
			// Outside secrets/: the configuration itself refuses it.
			var ve *config.ValidationError
			if !errors.As(err, &ve) || len(ve.For("sources[0].key_file")) == 0 {
				t.Errorf("key file %s: %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(cfg.KeyPath(name))
		r := c.post("/config/source/key", url.Values{"orig": {"emr"}, "op": {"generate"}})
		after, _ := os.ReadFile(cfg.KeyPath(name))
		if r.code == http.StatusSeeOther || !bytes.Equal(before, after) {
			t.Errorf("key written to %s", name)
		}
	}
}
