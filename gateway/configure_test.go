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
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
)

// withSource returns a copy of c with a source added (its server is never
// contacted here).
func withSource(c *config.Config) *config.Config {
	next := *c
	s := config.DefaultSource()
	s.Name, s.Host, s.User, s.KeyFile, s.ExportDir = "emr", "127.0.0.1", "danzen-pull", "emr.key", "/export"
	s.KnownHosts = []string{"[127.0.0.1]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}
	next.Sources = append([]config.Source{}, c.Sources...)
	next.Sources = append(next.Sources, s)
	return &next
}

// configuredGateway is a gateway on a fresh state directory whose first
// change added a source, so its configuration is complete.
func configuredGateway(t *testing.T) (*gateway.Gateway, string) {
	t.Helper()
	dir := t.TempDir()
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.json")
	g, err := gateway.Open(context.Background(), loaded.Config, gateway.Options{ConfigPath: p})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	if err := g.Reconfigure(context.Background(), "vendor", withSource(loaded.Config)); err != nil {
		t.Fatal(err)
	}
	return g, p
}

func TestReconfigureSavesAppliesRecordsAndUndoes(t *testing.T) {
	g, p := configuredGateway(t)
	cfg := g.Config()
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
	if len(entries) != 2 || entries[1].Actor != "vendor" {
		t.Fatalf("change not recorded with its actor: %+v", entries)
	}
	d, err := ledger.Decode[ledger.ConfigChangeData](entries[1])
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
	// Undo keeps less generations again: like any shortening it waits.
	if g.Config().Schedule != "daily 02:00" || g.Config().Retention.KeepLast != 7 {
		t.Fatalf("undo did not restore: %+v", g.Config())
	}
	if ps, err := g.PendingChanges(); err != nil || len(ps) != 1 || ps[0].Target.Retention.KeepLast != 5 {
		t.Fatalf("undo's shortening not held: %+v, %v", ps, err)
	}
}

// fileState is a file's content, or "" when it does not exist.
func fileState(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func TestChangeThatCannotBeAppliedIsRolledBack(t *testing.T) {
	g, p := configuredGateway(t)
	before, prevBefore := fileState(t, p), fileState(t, p+".prev")
	old := g.Config()
	// A relay of the fake driver, with no fake pins given to the gateway:
	// valid, but its hardware cannot be opened.
	next := *old
	next.Relays = []relay.Spec{{Name: "relay-disk-a", Driver: relay.DriverFake, Chip: "gpiochip0", Line: 17}}
	err := g.Reconfigure(context.Background(), "vendor", &next)
	if err == nil {
		t.Fatal("a change whose hardware cannot be opened was applied")
	}
	for l, want := range map[msg.Lang]string{msg.JA: "変更を取り消しました", msg.EN: "rolled back"} {
		if got := msg.In(err, l); !strings.Contains(got, want) || !strings.Contains(got, "fake") {
			t.Errorf("%v: the reason is not said: %q", l, got)
		}
	}
	if after := fileState(t, p); after != before {
		t.Errorf("config.json changed although the change was not applied:\n%s", after)
	}
	if fileState(t, p+".prev") != prevBefore {
		t.Error("config.json.prev changed: the undo now goes somewhere else")
	}
	if g.Config() != old || len(g.Config().Relays) != 0 {
		t.Errorf("the gateway runs %+v", g.Config().Relays)
	}
	entries, err := ledger.Read(old.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindError}})
	if err != nil || len(entries) != 1 || entries[0].Actor != "vendor" || !strings.Contains(entries[0].Message.EN, "rolled back") {
		t.Fatalf("the refusal is not in the ledger: %v %+v", err, entries)
	}
	if d, err := ledger.Decode[ledger.ErrorData](entries[0]); err != nil || d.Phase != "config" {
		t.Errorf("ledger data %+v, %v", d, err)
	}
	// The gateway still takes a change that can be applied.
	ok := *old
	ok.Schedule = "daily 03:00"
	if err := g.Reconfigure(context.Background(), "vendor", &ok); err != nil {
		t.Fatalf("after a roll-back: %v", err)
	}
	if onDisk, err := config.Load(p); err != nil || onDisk.Schedule != "daily 03:00" {
		t.Fatalf("after a roll-back, on disk: %v", err)
	}
}

func TestSavingWithoutAChangeWritesNothingAndKeepsTheUndo(t *testing.T) {
	g, p := configuredGateway(t)
	changed := *g.Config()
	changed.Schedule = "daily 04:00"
	if err := g.Reconfigure(context.Background(), "vendor", &changed); err != nil {
		t.Fatal(err)
	}
	before, prevBefore := fileState(t, p), fileState(t, p+".prev")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	same := *g.Config()
	if err := g.Reconfigure(context.Background(), "staff", &same); err != nil {
		t.Fatal(err)
	}
	if fileState(t, p+".prev") != prevBefore {
		t.Fatal("saving without a change replaced the undo")
	}
	if fi2, err := os.Stat(p); err != nil || !fi2.ModTime().Equal(fi.ModTime()) || fileState(t, p) != before {
		t.Fatal("saving without a change wrote config.json")
	}
	entries, _ := ledger.Read(g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindConfigChange}})
	if n := len(entries); n != 2 || entries[n-1].Actor != "vendor" {
		t.Fatalf("a change without a change was recorded: %+v", entries)
	}
	if err := g.UndoConfig(context.Background(), "vendor"); err != nil || g.Config().Schedule != "daily 02:00" {
		t.Fatalf("undo after a save without a change: %v, schedule %q", err, g.Config().Schedule)
	}
}

func TestRemovingTheLastSourceIsRefused(t *testing.T) {
	g, p := configuredGateway(t)
	before := fileState(t, p)
	none := *g.Config()
	none.Sources = nil
	var ve *config.ValidationError
	if err := g.Reconfigure(context.Background(), "vendor", &none); !errors.As(err, &ve) || len(ve.For("sources")) != 1 {
		t.Fatalf("removing the last source: %v", err)
	}
	if fileState(t, p) != before || len(g.Config().Sources) != 1 {
		t.Fatal("the refused change was applied")
	}
}

func TestFirstStartRunsUnfinishedUntilASourceIsAdded(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 { // created, then loaded again at the next start
		loaded, err := gateway.LoadOrCreate(dir)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if loaded.Unfinished == nil || !strings.Contains(msg.In(loaded.Unfinished, msg.EN), "add at least one") {
			t.Fatalf("start %d: unfinished = %v", i, loaded.Unfinished)
		}
	}
	// A general setting may be saved before the source is added.
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Open(context.Background(), loaded.Config, gateway.Options{ConfigPath: filepath.Join(dir, "config.json")})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	tz := *loaded.Config
	tz.Schedule = "daily 01:00"
	if err := g.Reconfigure(context.Background(), "vendor", &tz); err != nil {
		t.Fatalf("a commissioning step: %v", err)
	}
	if err := g.Reconfigure(context.Background(), "vendor", withSource(g.Config())); err != nil {
		t.Fatal(err)
	}
	loaded, err = gateway.LoadOrCreate(dir)
	if err != nil || loaded.Unfinished != nil || len(loaded.Config.Sources) != 1 {
		t.Fatalf("after the source was added: %v %v", err, loaded.Unfinished)
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
