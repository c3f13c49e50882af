package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

// testNow is a wall clock the test sets.
type testNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testNow) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

const origin = "192.0.2.7"

// guardedGateway is a gateway with two disk media (never attached) and an
// S3 medium on fake relays, saved in a file, its alerts to a webhook sink
// and its clock the test's.
func guardedGateway(t *testing.T) (*gateway.Gateway, string, *alertSink, *testNow) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.GatewayID = "gw-guard"
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	var specs []relay.Spec
	for i, n := range []string{"a", "b"} {
		rs := relay.Spec{Name: "relay-" + n, Driver: relay.DriverFake, Chip: "fake0", Line: 2 * i, Sense: &relay.SenseSpec{Chip: "fake0", Line: 2*i + 1}}
		specs = append(specs, rs)
		cfg.Media = append(cfg.Media, config.Medium{Name: "disk-" + n, Type: config.MediumDisk, Relay: rs.Name, PasswordFile: "disk-" + n + ".restic-password",
			Disk: &disk.Spec{Name: "disk-" + n, Serial: "NO-SUCH-DISK-" + n, MediaID: "DANZEN-DISK-" + strings.ToUpper(n), GoneTimeout: disk.Duration(time.Second)}})
	}
	cfg.Relays = specs
	cfg.Media = append(cfg.Media, config.Medium{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
		S3: &s3.Spec{Name: "cloud", Endpoint: "s3.example.jp", Bucket: "danzen", Region: "ap-northeast-1", AccessKeyID: "AKIAEXAMPLE", SecretKeyFile: "cloud.secret", MinRetentionDays: 60}})
	cfg.Rotation.PerCycle = 2
	cfg = withSource(cfg)
	sink, url := newAlertSink(t)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: url}
	p := filepath.Join(dir, "config.json")
	if err := config.Save(p, cfg); err != nil {
		t.Fatal(err)
	}
	clock := &testNow{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{ConfigPath: p, Now: clock.Now,
		RelaySources: map[string]relay.PinSource{relay.DriverFake: fake.NewBoard(specs...)}})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	return g, p, sink, clock
}

// savedConfig is the configuration file as saved (its fake relays are
// refused by config.Load, which serves danzend).
func savedConfig(t *testing.T, p string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c config.Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func copyOf(t *testing.T, c *config.Config) *config.Config {
	t.Helper()
	n := *c
	n.Media = append([]config.Medium(nil), c.Media...)
	for i := range n.Media {
		if s := n.Media[i].S3; s != nil {
			cp := *s
			n.Media[i].S3 = &cp
		}
	}
	n.Relays = append([]relay.Spec(nil), c.Relays...)
	return &n
}

// guardedEntries are the ledger's KindGuarded entries with their data.
func guardedEntries(t *testing.T, g *gateway.Gateway) ([]ledger.Entry, []ledger.GuardedData) {
	t.Helper()
	es, err := ledger.Read(g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindGuarded}})
	if err != nil {
		t.Fatal(err)
	}
	var ds []ledger.GuardedData
	for _, e := range es {
		d, err := ledger.Decode[ledger.GuardedData](e)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return es, ds
}

func TestShorteningIsHeldAlertedAndAppliedWhenDue(t *testing.T) {
	g, p, sink, clock := guardedGateway(t)
	ctx := ledger.WithOrigin(context.Background(), origin)
	next := copyOf(t, g.Config())
	next.Retention.KeepLast = 1 // the attack: the next good night would prune
	next.Retention.KeepDaily = 14
	next.Schedule = "daily 03:00"
	asked := clock.Now()
	if err := g.Reconfigure(ctx, "vendor", next); err != nil {
		t.Fatal(err)
	}
	cur := g.Config()
	if cur.Retention.KeepLast != 5 || cur.Retention.KeepDaily != 14 || cur.Schedule != "daily 03:00" {
		t.Fatalf("in force: keep_last %d keep_daily %d schedule %q; want the shortening held and the rest applied", cur.Retention.KeepLast, cur.Retention.KeepDaily, cur.Schedule)
	}
	if onDisk := savedConfig(t, p); onDisk.Retention.KeepLast != 5 {
		t.Fatal("the file must keep the longer value")
	}
	ps, err := g.PendingChanges()
	if err != nil || len(ps) != 1 {
		t.Fatalf("pending %+v, %v", ps, err)
	}
	pc := ps[0]
	if pc.Actor != "vendor" || pc.From != origin || !pc.Effective.Equal(asked.Add(7*24*time.Hour)) || len(pc.Changes) != 1 || pc.Changes[0].Field != "retention.keep_last" {
		t.Fatalf("pending change %+v", pc)
	}
	_, ds := guardedEntries(t, g)
	if len(ds) != 1 || ds[0].Op != "shorten.pending" || ds[0].From != origin || ds[0].ID != pc.ID {
		t.Fatalf("not recorded with where it came from: %+v", ds)
	}
	got := sink.wait(t, alert.KindShortenPending, pc.Effective.UTC().Format(time.RFC3339), false, 1)
	if got[0].Severity != alert.SeverityError || !strings.Contains(got[0].Body.String(), origin) {
		t.Fatalf("alert %+v", got[0])
	}

	if err := g.ApplyDuePending(context.Background(), clock.Add(6*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if g.Config().Retention.KeepLast != 5 {
		t.Fatal("applied before its waiting period ended")
	}
	if err := g.ApplyDuePending(context.Background(), clock.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if g.Config().Retention.KeepLast != 1 || g.Config().Schedule != "daily 03:00" {
		t.Fatalf("not applied when due: %+v", g.Config().Retention)
	}
	if onDisk := savedConfig(t, p); onDisk.Retention.KeepLast != 1 {
		t.Fatal("applied but not saved")
	}
	if ps, _ := g.PendingChanges(); len(ps) != 0 {
		t.Fatalf("still pending after applying: %+v", ps)
	}
	_, ds = guardedEntries(t, g)
	if len(ds) != 2 || ds[1].Op != "shorten.applied" || ds[1].From != origin {
		t.Fatalf("applying not recorded: %+v", ds)
	}
}

func TestLengtheningAppliesAtOnce(t *testing.T) {
	g, _, _, _ := guardedGateway(t)
	next := copyOf(t, g.Config())
	next.Retention.KeepLast = 9
	next.Rotation.PerCycle = 0 // every medium every cycle: more often
	next.Media[2].S3.MinRetentionDays = 90
	if err := g.Reconfigure(context.Background(), "vendor", next); err != nil {
		t.Fatal(err)
	}
	c := g.Config()
	if c.Retention.KeepLast != 9 || c.Rotation.PerCycle != 0 || c.Media[2].S3.MinRetentionDays != 90 {
		t.Fatalf("a lengthening was held: %+v %+v", c.Retention, c.Rotation)
	}
	if ps, _ := g.PendingChanges(); len(ps) != 0 {
		t.Fatalf("pending %+v", ps)
	}
}

func TestCancelledShorteningNeverApplies(t *testing.T) {
	g, _, _, clock := guardedGateway(t)
	next := copyOf(t, g.Config())
	next.Media = next.Media[1:] // remove disk-a
	next.Relays = next.Relays[1:]
	next.Rotation.PerCycle = 1
	next.Media[1].S3.MinRetentionDays = 30
	if err := g.Reconfigure(context.Background(), "attacker", next); err != nil {
		t.Fatal(err)
	}
	c := g.Config()
	if _, err := c.Medium("disk-a"); err != nil || len(c.Relays) != 2 || c.Rotation.PerCycle != 2 {
		t.Fatalf("removal or rotation applied at once: %v, %+v", err, c.Rotation)
	}
	if m, _ := c.Medium("cloud"); m.S3.MinRetentionDays != 60 {
		t.Fatalf("shorter Object Lock minimum applied at once: %d", m.S3.MinRetentionDays)
	}
	ps, err := g.PendingChanges()
	if err != nil || len(ps) != 1 || len(ps[0].Changes) != 3 {
		t.Fatalf("pending %+v, %v", ps, err)
	}
	if err := g.CancelPending(ledger.WithOrigin(context.Background(), origin), "admin", ps[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := g.CancelPending(context.Background(), "admin", ps[0].ID); !errors.Is(err, gateway.ErrNoPending) {
		t.Fatalf("cancelled twice: %v", err)
	}
	if err := g.ApplyDuePending(context.Background(), clock.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Config().Medium("disk-a"); err != nil {
		t.Fatal("a cancelled removal was applied")
	}
	es, ds := guardedEntries(t, g)
	if len(ds) != 2 || ds[1].Op != "shorten.cancelled" || ds[1].From != origin || es[1].Actor != "admin" {
		t.Fatalf("cancel not recorded with who and where: %+v", ds)
	}
}

func TestRemovedMediumGoesWhenDue(t *testing.T) {
	g, _, _, clock := guardedGateway(t)
	next := copyOf(t, g.Config())
	next.Media = next.Media[1:]
	next.Relays = next.Relays[1:]
	if err := g.Reconfigure(context.Background(), "vendor", next); err != nil {
		t.Fatal(err)
	}
	// RunPending applies it on its own once the clock passes the time.
	ctx, cancel := context.WithCancel(context.Background())
	sc := &stepClock{done: cancel, times: []time.Time{clock.Now(), clock.Now().Add(7*24*time.Hour + time.Minute)}}
	if err := g.RunPending(ctx, sc); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	c := g.Config()
	if _, err := c.Medium("disk-a"); err == nil || len(c.Media) != 2 || len(c.Relays) != 1 {
		t.Fatalf("removal not applied when due: %+v", c.Media)
	}
}

func TestWaitingPeriodIsAtLeastADayAndLoweringItWaits(t *testing.T) {
	g, _, _, clock := guardedGateway(t)
	next := copyOf(t, g.Config())
	next.Retention.ShortenDelay = config.Duration(time.Hour)
	var ve *config.ValidationError
	if err := g.Reconfigure(context.Background(), "vendor", next); !errors.As(err, &ve) || len(ve.For("retention.shorten_delay")) == 0 {
		t.Fatalf("a waiting period under a day: %v", err)
	}
	next.Retention.ShortenDelay = config.Duration(24 * time.Hour)
	asked := clock.Now()
	if err := g.Reconfigure(context.Background(), "vendor", next); err != nil {
		t.Fatal(err)
	}
	if g.Config().Retention.Delay() != 7*24*time.Hour {
		t.Fatal("lowering the waiting period applied at once")
	}
	ps, _ := g.PendingChanges()
	if len(ps) != 1 || !ps[0].Effective.Equal(asked.Add(7*24*time.Hour)) {
		t.Fatalf("lowering the waiting period must wait the old one: %+v", ps)
	}
	// Lengthening it applies at once.
	next.Retention.ShortenDelay = config.Duration(30 * 24 * time.Hour)
	if err := g.Reconfigure(context.Background(), "vendor", next); err != nil {
		t.Fatal(err)
	}
	if g.Config().Retention.Delay() != 30*24*time.Hour {
		t.Fatal("a longer waiting period was held")
	}
}
