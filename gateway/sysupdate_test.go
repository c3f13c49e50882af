package gateway_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/sysupdate/sysupdatetest"
)

// TestApplyUpdate: a bundle signed by another key is refused before
// anything is written, recorded with its reason and sender, and alerted;
// the vendor's signed bundle is written, switched to, recorded, and the
// gateway restarts, holding off every job until then.
func TestApplyUpdate(t *testing.T) {
	sink, hook := newAlertSink(t)
	cfg, path := newGatewayDir(t)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: hook}
	pub, priv := sysupdatetest.Key(t)
	_, stranger := sysupdatetest.Key(t)
	dev := sysupdatetest.NewDevice()
	g := openAt(t, cfg, path, gateway.Options{Update: gateway.UpdateOptions{ImageInfo: sysupdatetest.Image(t, pub), Device: dev, RebootDelay: time.Millisecond}})
	root := bytes.Repeat([]byte("r"), 1<<20)

	_, err := g.ApplyUpdate(ctxT(t), bytes.NewReader(sysupdatetest.Bundle(t, stranger, root)), "vendor", "192.168.10.66")
	var be *bundle.Error
	if parts, switched := dev.State(); !errors.As(err, &be) || be.Reason != bundle.ReasonSignature || len(parts) != 0 || switched {
		t.Fatalf("a bundle signed by another key: %v (written %v, switched %v)", err, parts, switched)
	}
	refused := entriesOf(t, g, ledger.KindUpdateRefused)
	if len(refused) != 1 {
		t.Fatalf("refusals recorded: %d", len(refused))
	}
	if d, err := ledger.Decode[ledger.UpdateData](refused[0]); err != nil || d.Reason != "signature" || d.Client != "192.168.10.66" || refused[0].Actor != "vendor" {
		t.Fatalf("refusal entry %+v, %v", d, err)
	}
	sink.wait(t, alert.KindUpdateRefused, cfg.GatewayID, false, 1)

	m, err := g.ApplyUpdate(ctxT(t), bytes.NewReader(sysupdatetest.Bundle(t, priv, root)), "vendor", "192.168.10.5")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-dev.Rebooted:
	case <-time.After(10 * time.Second):
		t.Fatal("no restart after the update")
	}
	if parts, switched := dev.State(); !switched || parts["root"] != int64(len(root)) || !m.Build.Equal(sysupdatetest.Running.Add(time.Hour)) {
		t.Fatalf("switched %v, parts %v, manifest %+v", switched, parts, m)
	}
	applied := entriesOf(t, g, ledger.KindUpdate)
	if d, err := ledger.Decode[ledger.UpdateData](applied[0]); len(applied) != 1 || err != nil || !d.Build.Equal(m.Build) || d.Key != bundle.KeyID(pub) || !d.Running.Equal(sysupdatetest.Running) {
		t.Fatalf("update entries %+v", applied)
	}
	if _, err := g.ApplyUpdate(ctxT(t), bytes.NewReader(sysupdatetest.Bundle(t, priv, root)), "vendor", "192.168.10.5"); !errors.Is(err, gateway.ErrBusy) {
		t.Fatalf("a second update before the restart: %v, want ErrBusy", err)
	}
}
