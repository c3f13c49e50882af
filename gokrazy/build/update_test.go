package build_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/gokrazy/push"
)

// updateKeys is a vendor's update key pair, made for one test as a
// vendor makes it (build.GenerateKeys, the PEM files danzen-image reads).
func updateKeys(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	if _, err := build.GenerateKeys(dir); err != nil {
		t.Fatal(err)
	}
	pub, err := build.LoadUpdateKey(filepath.Join(dir, build.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := build.LoadSigningKey(filepath.Join(dir, build.PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := build.GenerateKeys(dir); err == nil {
		t.Fatal("GenerateKeys replaced an existing update key")
	}
	return pub, priv
}

// badBundles are what a LAN attacker holding the vendor's password could
// send: a bundle signed with a key of its own, and one with no signature.
// Their root is a few bytes: the refusal comes before any part is read.
func badBundles(t *testing.T, arch string, build time.Time) map[string]string {
	t.Helper()
	dir := t.TempDir()
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	root := []byte("an attacker's root file system")
	src := []bundle.Source{{Name: bundle.Root, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(root)), nil }}}
	var signed bytes.Buffer
	if err := bundle.Write(&signed, other, arch, build, src); err != nil {
		t.Fatal(err)
	}
	// The same bundle with its signature taken out.
	var unsigned bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(signed.Bytes())), tar.NewWriter(&unsigned)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "manifest.sig" {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, b := range map[string][]byte{"wrongly signed": signed.Bytes(), "unsigned": unsigned.Bytes()} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".bundle")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	return out
}

var setupCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// firstAdmin creates the first vendor admin with the console's setup
// code, as TestDayOne's browser does, through the pinned client.
func firstAdmin(t *testing.T, d *dayOne, base, user, pw string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	code := d.console() // sets d.fp, which the client pins
	c := d.client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var page []byte
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		resp, err := c.Get(base + "/setup")
		if err == nil {
			page, _ = io.ReadAll(resp.Body)
			_ = resp.Body.Close() // read
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the setup page does not answer: %v\nserial:\n%s", err, d.vm.serial())
		}
	}
	m := setupCSRF.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the setup page:\n%s", page)
	}
	form := url.Values{"code": {code}, "username": {user}, "password": {pw}, "password2": {pw}, "csrf_token": {string(m[1])}}
	resp, err := c.PostForm(base+"/setup", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // read
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("creating the first admin: %s\n%s", resp.Status, body)
	}
}

// port80Closed checks that gokrazy's web interface is not reachable
// from the LAN: QEMU's forward to the guest's port 80 accepts on the
// host, then the guest refuses, and no HTTP answer comes back.
func port80Closed(t *testing.T, port int) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err == nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close() // the answer is the failure
		t.Errorf("the guest's port 80 answers: %s %q", resp.Status, b)
		return
	}
	t.Logf("the guest's port 80 gives no answer: %v", err)
}

// refusedRows counts the refused updates the update view lists.
func refusedRows(t *testing.T, ctx context.Context, target push.Target) int {
	t.Helper()
	page, err := push.Get(ctx, target, "/system/update")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(page), `<tr class="bad">`)
}

// A bundle WriteBundle signs is one the gateway's check (bundle.Open)
// takes, part for part; a key that is not the pinned one is refused.
func TestWriteBundle(t *testing.T) {
	pub, priv := updateKeys(t)
	dir := t.TempDir()
	parts := map[string][]byte{"root.squashfs": bytes.Repeat([]byte("root"), 1000), "boot.fat": []byte("boot")}
	for name, b := range parts {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	res := &build.Result{Instance: "danzen-amd64", GOARCH: "amd64", BuildTimestamp: ts.Format(time.RFC3339),
		Root: filepath.Join(dir, "root.squashfs"), Boot: filepath.Join(dir, "boot.fat"), UpdateKey: pub}
	p, err := build.WriteBundle(res, priv)
	if err != nil || p != filepath.Join(dir, "danzen-amd64.bundle") {
		t.Fatalf("WriteBundle = %q, %v", p, err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // only read
	r, err := bundle.Open(f, bundle.Policy{Key: pub, Arch: "amd64", Running: ts.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{bundle.Root: parts["root.squashfs"], bundle.Boot: parts["boot.fat"]}
	for {
		part, pr, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(pr)
		if err != nil || !bytes.Equal(got, want[part.Name]) {
			t.Errorf("part %s: %d bytes, %v", part.Name, len(got), err)
		}
		delete(want, part.Name)
	}
	if len(want) != 0 {
		t.Errorf("parts missing from the bundle: %v", want)
	}

	_, other := updateKeys(t)
	if _, err := build.WriteBundle(res, other); err == nil || !strings.Contains(err.Error(), "not the update key") {
		t.Errorf("signing with a key that is not the pinned one: %v", err)
	}
}

// An image says which key updates it, or that it is a bench image.
func TestBuildNeedsAnUpdateKey(t *testing.T) {
	cfg, err := build.ParseConfig([]byte(`{"Hostname": "danzen", "Packages": []}`))
	if err != nil {
		t.Fatal(err)
	}
	inst := &build.Instance{Name: "x", Dir: t.TempDir(), Config: cfg}
	pub, _ := updateKeys(t)
	for _, c := range []struct {
		opts build.Options
		want string
	}{
		{build.Options{}, "no update key"},
		{build.Options{UpdateKey: pub, Bench: true}, "not both"},
		{build.Options{UpdateKey: pub[:16]}, "ed25519 public key"},
	} {
		if _, err := build.Build(context.Background(), inst, t.TempDir(), c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build with %+v: %v, want %q", c.opts, err, c.want)
		}
	}
}
