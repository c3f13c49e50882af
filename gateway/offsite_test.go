package gateway_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

var tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}()

// offsiteConfig is a gateway with three disks (never attached) on
// simulated relays, written one per nightly run at 02:00 Tokyo time, and
// its alerts going to a webhook sink.
func offsiteConfig(t *testing.T) (*config.Config, *alertSink) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.GatewayID = "gw-offsite"
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.Schedule, cfg.TimeZone, cfg.Rotation.PerCycle = "daily 02:00", "Asia/Tokyo", 1
	for _, n := range []string{"a", "b", "c"} {
		cfg.Relays = append(cfg.Relays, relay.Spec{Name: "sim-" + n, Driver: relay.DriverSimulated})
		cfg.Media = append(cfg.Media, config.Medium{Name: "disk-" + n, Type: config.MediumDisk, Relay: "sim-" + n, PasswordFile: "disk-" + n + ".restic-password",
			Disk: &disk.Spec{Name: "disk-" + n, Serial: "NO-SUCH-DISK-" + n, MediaID: "DANZEN-DISK-" + strings.ToUpper(n), GoneTimeout: disk.Duration(time.Second)}})
	}
	cfg.Offsite = config.Offsite{Expected: true, MaxAllHome: config.Duration(14 * 24 * time.Hour)}
	sink, url := newAlertSink(t)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: url}
	return cfg, sink
}

// TestOffsiteMarksDueDatesAndAlerts runs on a test clock: a medium taken
// away is recorded with who carried it and who marked it, gets the date
// the rotation needs it back by, is alerted once that run has come and
// cleared when it is back; every medium home longer than the set period
// is alerted and cleared when one leaves. Marks that cannot be right are
// refused with the medium named.
func TestOffsiteMarksDueDatesAndAlerts(t *testing.T) {
	cfg, sink := offsiteConfig(t)
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	ctx := ctxT(t)
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, tokyo)

	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-c", Away: true, Actor: "staff1", By: "佐藤", Client: "192.168.10.7", Note: "別棟金庫", At: t0}); err != nil {
		t.Fatal(err)
	}
	marks := entriesOf(t, g, ledger.KindOffsite)
	if len(marks) != 1 || marks[0].Actor != "staff1" || marks[0].Medium != "disk-c" {
		t.Fatalf("marks %+v", marks)
	}
	// Never written: the rotation of three writes it on the third run
	// after it left, 2026-06-04 02:00.
	due := time.Date(2026, 6, 4, 2, 0, 0, 0, tokyo)
	d, err := ledger.Decode[ledger.OffsiteData](marks[0])
	if err != nil || d.Action != ledger.OffsiteAway || d.By != "佐藤" || d.Client != "192.168.10.7" || d.Note != "別棟金庫" || !d.At.Equal(t0) || !d.Due.Equal(due) {
		t.Fatalf("away mark %+v, %v", d, err)
	}
	st, err := g.Offsite(t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := st.Get("disk-c")
	if !c.Away || c.By != "佐藤" || !c.Since.Equal(t0) || !c.DueBack.Equal(due) || c.Overdue {
		t.Fatalf("disk-c %+v", c)
	}
	if got := st.Home([]string{"disk-a", "disk-b", "disk-c"}); strings.Join(got, ",") != "disk-a,disk-b" {
		t.Fatalf("home media %v", got)
	}

	refused := func(mk gateway.OffsiteMark, ja, en string) {
		t.Helper()
		err := g.MarkOffsite(ctx, mk)
		if err == nil || !strings.Contains(msg.In(err, msg.JA), ja) || !strings.Contains(msg.In(err, msg.EN), en) {
			t.Errorf("%+v: %v", mk, err)
		}
	}
	refused(gateway.OffsiteMark{Medium: "disk-c", Away: true, Actor: "staff1", At: t0}, "すでに院外保管中", "already off-site")
	refused(gateway.OffsiteMark{Medium: "disk-a", Actor: "staff1", At: t0}, "院外保管中ではありません", "not off-site")
	refused(gateway.OffsiteMark{Medium: "disk-x", Away: true, Actor: "staff1", At: t0}, "設定にありません", "no medium named")
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-a", Away: true, Actor: "staff1", At: t0}); err != nil {
		t.Fatal(err)
	}
	refused(gateway.OffsiteMark{Medium: "disk-b", Away: true, Actor: "staff1", At: t0}, "書き込める媒体がなくなります", "no medium to write")
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-a", Actor: "staff1", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := len(entriesOf(t, g, ledger.KindOffsite)); n != 3 {
		t.Fatalf("%d marks after the refusals, want 3", n)
	}

	// The run at which it is due comes and it is not back: alerted.
	st, err = g.CheckOffsite(due)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Get("disk-c"); !c.Overdue {
		t.Fatalf("disk-c not overdue at its due run: %+v", c)
	}
	a := sink.wait(t, alert.KindOffsiteOverdue, "disk-c", false, 1)[0]
	if a.Severity != alert.SeverityWarning || !strings.Contains(a.Body.JA, "2026-06-04 02:00") || !strings.Contains(a.Body.EN, "due back by 2026-06-04 02:00") {
		t.Fatalf("overdue alert %+v", a)
	}
	back := due.Add(7 * time.Hour)
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-c", Actor: "staff2", At: back}); err != nil {
		t.Fatal(err)
	}
	sink.wait(t, alert.KindOffsiteOverdue, "disk-c", true, 1)

	// Every medium home since disk-c came back: within 14 days nothing,
	// after them the lapse is alerted, and cleared when one leaves.
	if st, err = g.CheckOffsite(back.Add(13 * 24 * time.Hour)); err != nil || st.Lapsed || !st.AllHomeSince.Equal(back) {
		t.Fatalf("after 13 days home: %+v, %v", st, err)
	}
	late := back.Add(15 * 24 * time.Hour)
	if st, err = g.CheckOffsite(late); err != nil || !st.Lapsed {
		t.Fatalf("after 15 days home: %+v, %v", st, err)
	}
	a = sink.wait(t, alert.KindOffsiteLapsed, cfg.GatewayID, false, 1)[0]
	if a.Severity != alert.SeverityError || !strings.Contains(a.Body.EN, "14 days") || !strings.Contains(a.Body.JA, "14日") {
		t.Fatalf("lapse alert %+v", a)
	}
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-b", Away: true, Actor: "staff1", At: late}); err != nil {
		t.Fatal(err)
	}
	sink.wait(t, alert.KindOffsiteLapsed, cfg.GatewayID, true, 1)
}

// TestOffsiteNotExpectedNoLapse: without an expected off-site rotation,
// media home for months raise no lapse.
func TestOffsiteNotExpectedNoLapse(t *testing.T) {
	cfg, _ := offsiteConfig(t)
	cfg.Offsite = config.Offsite{}
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, tokyo)
	for _, mk := range []gateway.OffsiteMark{{Medium: "disk-a", Away: true, At: t0}, {Medium: "disk-a", At: t0.Add(time.Hour)}} {
		mk.Actor = "staff1"
		if err := g.MarkOffsite(ctxT(t), mk); err != nil {
			t.Fatal(err)
		}
	}
	st, err := g.CheckOffsite(t0.AddDate(0, 3, 0))
	if err != nil || st.Lapsed || st.Expected {
		t.Fatalf("%+v, %v", st, err)
	}
}

// TestOffsiteMediumSkippedByTheCycle: the cycle passes over a medium kept
// off-site without a failure, writes the others in its place, and says
// so in the ledger; back home, it is the first one written.
func TestOffsiteMediumSkippedByTheCycle(t *testing.T) {
	r := newRig(t, []string{"disk-a", "disk-b"}, 256<<20)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	r.prepare(t, g, "disk-b")
	ctx := ctxT(t)
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-a", Away: true, Actor: "staff1", By: "佐藤"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rep, err := g.RunCycle(ctx, nil)
		if err != nil || !rep.OK() || len(rep.Media) != 1 || rep.Media[0].Name != "disk-b" {
			t.Fatalf("cycle with disk-a away: %v %+v", err, rep)
		}
	}
	var skips int
	for _, e := range entriesOf(t, g, ledger.KindOffsite) {
		d, err := ledger.Decode[ledger.OffsiteData](e)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action == ledger.OffsiteSkipped {
			skips++
			if e.Medium != "disk-a" || !strings.Contains(e.Message.EN, "medium disk-a is off-site: not written this time") {
				t.Fatalf("skip entry %+v", e)
			}
		}
	}
	if skips != 2 {
		t.Fatalf("%d skips recorded, want 2", skips)
	}
	st, err := g.Offsite(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := st.Get("disk-a"); a.LastSkipped.IsZero() || !a.LastWritten.IsZero() {
		t.Fatalf("disk-a %+v", a)
	}
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-a", Actor: "staff1"}); err != nil {
		t.Fatal(err)
	}
	rep, err := g.RunCycle(ctx, nil)
	if err != nil || len(rep.Media) != 1 || rep.Media[0].Name != "disk-a" {
		t.Fatalf("cycle after the return: %v %+v", err, rep)
	}
	if err := g.MarkOffsite(ctx, gateway.OffsiteMark{Medium: "disk-a", Actor: "staff1"}); err == nil || errors.Is(err, gateway.ErrBusy) {
		t.Fatalf("a second return: %v", err)
	}
}
