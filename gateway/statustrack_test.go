package gateway_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/status"
)

// lightConfig is a gateway with one disk behind a simulated relay:
// nothing to power, nothing attached.
func lightConfig(t *testing.T) *config.Config {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "s"), filepath.Join(dir, "k"), filepath.Join(dir, "l")
	cfg.Relays = []relay.Spec{{Name: "relay-disk-a", Driver: relay.DriverSimulated}}
	cfg.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: "relay-disk-a",
		Disk: &disk.Spec{Name: "disk-a", Serial: "NO-SUCH-DISK", MediaID: "DANZEN-DISK-A"}, PasswordFile: "disk-a.pw"}}
	return cfg
}

func openLight(t *testing.T, cfg *config.Config) *gateway.Gateway {
	t.Helper()
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The status follows every entry without reading the ledger, survives a
// restart through the checkpoint, and says when the ledger was verified
// in full (at 03:30, recorded in the ledger).
func TestStatusTrackedAndVerifiedDaily(t *testing.T) {
	cfg := lightConfig(t)
	g := openLight(t, cfg)
	if err := g.Record(context.Background(), ledger.Entry{Kind: ledger.KindPowerOn, Medium: "disk-a", Payload: ledger.PowerOnData{Relay: "relay-disk-a"}}); err != nil {
		t.Fatal(err)
	}
	st, err := g.Status(context.Background())
	if err != nil || st.Media[0].State != status.Connected || st.LastFullVerify != nil {
		t.Fatalf("status after power.on: %v %+v", err, st)
	}

	jst := time.FixedZone("JST", 9*3600)
	ctx, cancel := context.WithCancel(context.Background())
	clock := &stepClock{done: cancel, times: []time.Time{
		time.Date(2026, 11, 26, 3, 0, 0, 0, jst), time.Date(2026, 11, 26, 3, 30, 0, 0, jst), time.Date(2026, 11, 26, 3, 31, 0, 0, jst)}}
	if err := g.RunLedgerVerifySchedule(ctx, clock); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	st, err = g.Status(context.Background())
	if err != nil || st.LastFullVerify == nil || !st.LastFullVerify.Data.OK || st.LastFullVerify.Data.Entries < 2 {
		t.Fatalf("no full verification at 03:30: %v %+v", err, st.LastFullVerify)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.LedgerDir, status.CheckpointFileName)); err != nil {
		t.Fatalf("no checkpoint after Close: %v", err)
	}

	g = openLight(t, cfg)
	again, err := g.Status(context.Background())
	if err != nil || again.LastFullVerify == nil || again.Ledger.LastSeq <= st.Ledger.LastSeq || len(again.Media) != 1 {
		t.Fatalf("after a restart: %v %+v", err, again)
	}
	want, err := status.Compute(cfg.LedgerDir, []string{"disk-a"}, again.Generated)
	if err != nil || want.Media[0].State != again.Media[0].State || want.Ledger.LastHash != again.Ledger.LastHash {
		t.Fatalf("tracked %+v, computed %+v (%v)", again.Media[0], want.Media[0], err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

// A ledger edited behind the checkpoint is found by the daily
// verification: the page says so, the ledger records it, and the next
// start checks the whole chain and refuses it, as before.
func TestDailyVerificationFindsAnEdit(t *testing.T) {
	cfg := lightConfig(t)
	g := openLight(t, cfg)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(cfg.LedgerDir, ledger.FileName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), `"seq":1,"time":"2`, `"seq":1,"time":"1`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	g = openLight(t, cfg) // the checkpoint covers seq 1: not looked at
	rep, err := g.VerifyLedger(context.Background())
	if !errors.Is(err, ledger.ErrCorrupt) || rep.OK {
		t.Fatalf("verify of an edited ledger: %v", err)
	}
	st, err := g.Status(context.Background())
	if err == nil || st.LedgerErr.IsZero() || len(st.Media) != 0 {
		t.Fatalf("status of an edited ledger: %v %+v", err, st)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.Open(context.Background(), cfg, gateway.Options{}); !errors.Is(err, ledger.ErrCorrupt) {
		t.Fatalf("start after a failed verification: %v", err)
	}
}
