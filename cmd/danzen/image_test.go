package main_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
)

// `danzen image push` wants the pinned certificate and the user, and
// sends nothing to a page whose certificate is not the pinned one. (The
// push to a real gateway is gokrazy/build's TestAmd64Image.)
func TestImagePushPinsTheCertificate(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := bundle.Write(&b, key, "amd64", time.Now(), []bundle.Source{{Name: bundle.Root, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("root")), nil
	}}}); err != nil {
		t.Fatal(err)
	}
	bundlePath, pwPath := filepath.Join(dir, "x.bundle"), filepath.Join(dir, "pw")
	if err := os.WriteFile(bundlePath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pwPath, []byte("vendor-password-2026\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if out, code := run(t, bin, "image", "push", "127.0.0.1:8443", bundlePath); code == 0 || !strings.Contains(out, "--cert-sha256") {
		t.Errorf("without --cert-sha256 and --user: exit %d\n%s", code, out)
	}

	var reached atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer srv.Close()
	other := sha256.Sum256([]byte("the certificate the vendor was shown"))
	out, code := runIn(t, "en_US.UTF-8", bin, "image", "push", "--cert-sha256", hex.EncodeToString(other[:]), "--user", "vendor",
		"--password-file", pwPath, strings.TrimPrefix(srv.URL, "https://"), bundlePath)
	if code == 0 || !strings.Contains(out, "differs from the pinned fingerprint") {
		t.Errorf("a page with another certificate: exit %d\n%s", code, out)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("%d requests reached a page whose certificate was not the pinned one", n)
	}
}
