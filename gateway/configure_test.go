package gateway_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

func TestReconfigureSavesAppliesRecordsAndUndoes(t *testing.T) {
	dir := t.TempDir()
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loaded.Config
	p := filepath.Join(dir, "config.json")
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{ConfigPath: p})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)

	next := *cfg
	next.Schedule = "30 1 * * 1-5"
	next.Retention.KeepLast = 7
	if err := g.Reconfigure(context.Background(), "vendor", &next); err != nil {
		t.Fatal(err)
	}
	if g.Config().Schedule != "30 1 * * 1-5" {
		t.Fatal("new configuration not in effect")
	}
	onDisk, err := config.Load(p)
	if err != nil || onDisk.Retention.KeepLast != 7 {
		t.Fatalf("not saved: %v", err)
	}
	entries, _ := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindConfigChange}})
	if len(entries) != 1 || entries[0].Actor != "vendor" {
		t.Fatalf("change not recorded with its actor: %+v", entries)
	}
	d, err := ledger.Decode[ledger.ConfigChangeData](entries[0])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(d.Changed)
	if !slices.Equal(d.Changed, []string{"retention", "schedule"}) {
		t.Fatalf("changed fields %v", d.Changed)
	}

	bad := next
	bad.Schedule = "whenever"
	var ve *config.ValidationError
	if err := g.Reconfigure(context.Background(), "vendor", &bad); !errors.As(err, &ve) || len(ve.For("schedule")) == 0 {
		t.Fatalf("invalid configuration: %v", err)
	}
	if onDisk, _ := config.Load(p); onDisk.Schedule != "30 1 * * 1-5" {
		t.Fatal("a refused change touched the file")
	}

	if err := g.UndoConfig(context.Background(), "vendor"); err != nil {
		t.Fatal(err)
	}
	if g.Config().Schedule != "daily 02:00" || g.Config().Retention.KeepLast != 5 {
		t.Fatalf("undo did not restore: %+v", g.Config())
	}
}

func TestStartCycleRefusesWhileBusyAndPublishesEvents(t *testing.T) {
	dir := t.TempDir()
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loaded.Config
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	events, stop := g.Subscribe()
	defer stop()
	if err := g.StartCycle(context.Background(), "staff"); err != nil {
		t.Fatal(err)
	}
	// The first cycle is still writing its ledger entries (each fsynced).
	if err := g.StartCycle(context.Background(), "staff"); !errors.Is(err, gateway.ErrBusy) {
		t.Fatalf("second start while the first runs: %v, want ErrBusy", err)
	}
	deadline := time.After(30 * time.Second)
	for {
		entries, _ := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCycleEnd}})
		if len(entries) > 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("manual cycle did not finish")
		case <-events:
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The job ends just after its last ledger entry (alerts are handed
	// over first): busy must clear by itself, and soon.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if busy, _ := g.Running(); !busy {
			break
		}
		if time.Now().After(end) {
			t.Fatal("still busy 5 s after the cycle ended")
		}
	}
	entries, _ := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{"job.start"}})
	if len(entries) != 1 || entries[0].Actor != "staff" {
		t.Fatalf("manual start not recorded with its actor: %+v", entries)
	}
}

func TestDamagedConfigurationFallsBackToThePreviousOne(t *testing.T) {
	dir := t.TempDir()
	first, err := gateway.LoadOrCreate(dir)
	if err != nil || !first.Created {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.json")
	cfg := *first.Config
	cfg.Schedule = "daily 03:30"
	if err := config.Save(p, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`{"version": 1, "gateway_id": "dan`), 0o600); err != nil { // torn by a power cut
		t.Fatal(err)
	}
	got, err := gateway.LoadOrCreate(dir)
	if err != nil || got.Fallback == nil || got.Created || got.Config.Schedule != "daily 02:00" {
		t.Fatalf("fallback: %v %+v", err, got)
	}
	if !strings.Contains(got.Fallback.Error(), "previous") {
		t.Fatalf("fallback message: %v", got.Fallback)
	}
	if err := os.Remove(p + ".prev"); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.LoadOrCreate(dir); err == nil {
		t.Fatal("a damaged configuration without a previous one was accepted")
	}
}
