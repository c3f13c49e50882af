package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/sysupdate"
)

// fakeDevice is gokrazy's update side: what it was sent, switched,
// rebooted.
type fakeDevice struct {
	mu       sync.Mutex
	parts    map[string]int64
	switched bool
	rebooted chan struct{}
}

func (d *fakeDevice) StreamTo(_ context.Context, dest string, r io.Reader, _ bool) (int64, error) {
	n, err := io.Copy(io.Discard, r)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		d.parts[dest] = n
	}
	return n, err
}

func (d *fakeDevice) Switch(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.switched = true
	return nil
}

func (d *fakeDevice) Reboot(context.Context) error {
	close(d.rebooted)
	return nil
}

// TestApplyUpdate: an unsigned bundle is refused before anything is
// written, recorded with its reason and sender, and alerted; the vendor's
// signed bundle is written, switched to, recorded, and the gateway
// restarts, holding off every job until then.
func TestApplyUpdate(t *testing.T) {
	sink, hook := newAlertSink(t)
	cfg, path := newGatewayDir(t)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: hook}
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
	dev := &fakeDevice{parts: map[string]int64{}, rebooted: make(chan struct{})}
	g := openAt(t, cfg, path, gateway.Options{Update: gateway.UpdateOptions{ImageInfo: infoPath, Device: dev, RebootDelay: time.Millisecond}})
	root := bytes.Repeat([]byte("r"), 1<<20)
	bundleOf := func(key ed25519.PrivateKey) *bytes.Buffer {
		var b bytes.Buffer
		src := bundle.Source{Name: bundle.Root, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(root)), nil }}
		if err := bundle.Write(&b, key, "amd64", running.Add(time.Hour), []bundle.Source{src}); err != nil {
			t.Fatal(err)
		}
		return &b
	}

	_, stranger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.ApplyUpdate(ctxT(t), bundleOf(stranger), "vendor", "192.168.10.66")
	var be *bundle.Error
	if !errors.As(err, &be) || be.Reason != bundle.ReasonSignature || len(dev.parts) != 0 || dev.switched {
		t.Fatalf("a bundle signed by another key: %v (written %v, switched %v)", err, dev.parts, dev.switched)
	}
	refused := entriesOf(t, g, ledger.KindUpdateRefused)
	if len(refused) != 1 {
		t.Fatalf("refusals recorded: %d", len(refused))
	}
	if d, err := ledger.Decode[ledger.UpdateData](refused[0]); err != nil || d.Reason != "signature" || d.Client != "192.168.10.66" || refused[0].Actor != "vendor" {
		t.Fatalf("refusal entry %+v, %v", d, err)
	}
	sink.wait(t, alert.KindUpdateRefused, cfg.GatewayID, false, 1)

	m, err := g.ApplyUpdate(ctxT(t), bundleOf(priv), "vendor", "192.168.10.5")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-dev.rebooted:
	case <-time.After(10 * time.Second):
		t.Fatal("no restart after the update")
	}
	if !dev.switched || dev.parts["root"] != int64(len(root)) || !m.Build.Equal(running.Add(time.Hour)) {
		t.Fatalf("switched %v, parts %v, manifest %+v", dev.switched, dev.parts, m)
	}
	applied := entriesOf(t, g, ledger.KindUpdate)
	if d, err := ledger.Decode[ledger.UpdateData](applied[0]); len(applied) != 1 || err != nil || !d.Build.Equal(m.Build) || d.Key != bundle.KeyID(pub) || !d.Running.Equal(running) {
		t.Fatalf("update entries %+v", applied)
	}
	if _, err := g.ApplyUpdate(ctxT(t), bundleOf(priv), "vendor", "192.168.10.5"); !errors.Is(err, gateway.ErrBusy) {
		t.Fatalf("a second update before the restart: %v, want ErrBusy", err)
	}
}
