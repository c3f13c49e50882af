package push_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	"github.com/danzen-gw/danzen/gokrazy/push"
)

// A page whose certificate is not the pinned one gets nothing: not the
// login, not the password. (The whole push against the real page is the
// image acceptance test, gokrazy/build TestAmd64Image.)
func TestPinnedCertificate(t *testing.T) {
	var reached atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	other := sha256.Sum256([]byte("another certificate"))

	_, err := push.Status(context.Background(), push.Target{URL: srv.URL, CertSHA256: hex.EncodeToString(other[:]), User: "vendor", Password: "secret-password"})
	if err == nil || !strings.Contains(err.Error(), "differs from the pinned fingerprint") {
		t.Fatalf("a page with another certificate: %v, want the pinned fingerprint refused", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d requests reached a page whose certificate was not the pinned one", n)
	}

	// The right fingerprint, as the page shows it (upper case, colons),
	// gets through to the page (which here is no danzen page).
	var colons []string
	for _, b := range sum {
		colons = append(colons, strings.ToUpper(hex.EncodeToString([]byte{b})))
	}
	_, err = push.Status(context.Background(), push.Target{URL: srv.URL, CertSHA256: strings.Join(colons, ":"), User: "vendor", Password: "secret-password"})
	if err == nil || reached.Load() == 0 {
		t.Fatalf("with the pinned certificate: %v after %d requests; want the page reached and its login page not found", err, reached.Load())
	}
}

func TestParseFingerprint(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	h := hex.EncodeToString(sum[:])
	for _, in := range []string{h, strings.ToUpper(h), "SHA256:" + h} {
		if got, err := push.ParseFingerprint(in); err != nil || got != h {
			t.Errorf("ParseFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "abcd", h + "00", "http://" + h} {
		if _, err := push.ParseFingerprint(in); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", in)
		}
	}
	if _, err := push.Status(context.Background(), push.Target{URL: "http://127.0.0.1:1", CertSHA256: h}); err == nil {
		t.Error("a plain-HTTP page was accepted")
	}
}

func TestManifest(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	build := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	var b bytes.Buffer
	root := []byte("root file system")
	if err := bundle.Write(&b, key, "amd64", build, []bundle.Source{{Name: bundle.Root, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(root)), nil
	}}}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "x.bundle")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := push.Manifest(p)
	if err != nil || !m.Build.Equal(build) || m.Arch != "amd64" || len(m.Parts) != 1 {
		t.Fatalf("Manifest = %+v, %v", m, err)
	}
	if err := os.WriteFile(p, []byte("not a bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := push.Manifest(p); err == nil {
		t.Error("a file that is no bundle was read as one")
	}
	var notExist *os.PathError
	if _, err := push.Manifest(filepath.Join(t.TempDir(), "none")); !errors.As(err, &notExist) {
		t.Errorf("a missing file: %v", err)
	}
}
