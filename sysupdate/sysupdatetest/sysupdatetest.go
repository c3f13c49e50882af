// Package sysupdatetest gives tests a running image with a pinned update
// key, bundles signed by any key, and gokrazy's update side as a fake
// that records what it was sent.
package sysupdatetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/sysupdate"
)

// Running is the build the test image runs.
var Running = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// Key makes an ed25519 key pair.
func Key(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// Image writes the description of an amd64 image built at Running that
// pins pub, and returns its path.
func Image(t *testing.T, pub ed25519.PublicKey) string {
	t.Helper()
	b, err := json.Marshal(sysupdate.ImageInfo{Arch: "amd64", Build: Running, UpdateKey: base64.StdEncoding.EncodeToString(pub)})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.json")
	if err := os.WriteFile(p, b, 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

// Bundle is an amd64 bundle of root, an hour newer than Running, signed
// with key.
func Bundle(t *testing.T, key ed25519.PrivateKey, root []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	src := bundle.Source{Name: bundle.Root, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(root)), nil }}
	if err := bundle.Write(&b, key, "amd64", Running.Add(time.Hour), []bundle.Source{src}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Device is gokrazy's update side: what it was sent, whether it switched
// and rebooted.
type Device struct {
	mu       sync.Mutex
	parts    map[string]int64
	switched bool
	Rebooted chan struct{} // closed by Reboot
}

// NewDevice is a device that has been sent nothing.
func NewDevice() *Device { return &Device{parts: map[string]int64{}, Rebooted: make(chan struct{})} }

// StreamTo reads r to its end; a part read whole counts as written.
func (d *Device) StreamTo(_ context.Context, dest string, r io.Reader, _ bool) (int64, error) {
	n, err := io.Copy(io.Discard, r)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		d.parts[dest] = n
	}
	return n, err
}

// Switch records the switch.
func (d *Device) Switch(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.switched = true
	return nil
}

// Reboot closes Rebooted.
func (d *Device) Reboot(context.Context) error {
	close(d.Rebooted)
	return nil
}

// State is what was written (bytes by destination) and whether it switched.
func (d *Device) State() (map[string]int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int64{}
	for k, v := range d.parts {
		out[k] = v
	}
	return out, d.switched
}
