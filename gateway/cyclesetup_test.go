package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// A cycle that cannot even start (here: no restic anywhere) is not only
// in the log: the ledger holds why, for the history and the auditor.
func TestCycleThatCannotStartIsRecorded(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 64<<20)
	r.cfg.ResticBinary = config.DefaultResticBinary
	t.Setenv(config.ResticEnv, "")
	t.Setenv("PATH", t.TempDir())
	g := r.open(t)
	if _, err := g.RunCycle(context.Background(), nil); err == nil {
		t.Fatal("a cycle without restic ran")
	}
	entries, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindError}})
	if err != nil || len(entries) != 1 || entries[0].Medium != "disk-a" {
		t.Fatalf("errors recorded: %v %+v", err, entries)
	}
	if d, err := ledger.Decode[ledger.ErrorData](entries[0]); err != nil || d.Phase != "cycle setup" {
		t.Errorf("error data %+v (%v)", d, err)
	}
}

// A broken alert setting (its CA file gone) must not keep the gateway, and
// so the page where it is fixed, from opening: it is recorded instead.
func TestBrokenAlertSettingDoesNotStopTheGateway(t *testing.T) {
	cfg, path := newGatewayDir(t)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: "https://127.0.0.1:1/hook", CAFile: "hospital-ca.pem"}
	g := openAt(t, cfg, path, gateway.Options{})
	if why := g.AlertsProblem(); !strings.Contains(why.EN, "alerts cannot be sent") {
		t.Errorf("the page is not told that alerts are down: %q", why.EN)
	}
	entries, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindError}})
	if err != nil || len(entries) != 1 {
		t.Fatalf("errors recorded: %v %+v", err, entries)
	}
	if d, err := ledger.Decode[ledger.ErrorData](entries[0]); err != nil || d.Phase != "alerts" ||
		!strings.Contains(entries[0].Message.EN, "alerts cannot be sent") {
		t.Errorf("recorded %+v %q (%v)", d, entries[0].Message.EN, err)
	}
	// A saved change that opens the channels (here: none) clears it.
	next := *g.Config()
	next.Alerts.Webhook = nil
	if err := g.Reconfigure(context.Background(), "vendor", &next); err != nil {
		t.Fatal(err)
	}
	if why := g.AlertsProblem(); !why.IsZero() {
		t.Errorf("still down after the fix: %q", why.EN)
	}
}
