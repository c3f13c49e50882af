package gateway_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
	"github.com/danzen-gw/danzen/status"
)

// recutEvery is the tests' retry interval.
const recutEvery = 50 * time.Millisecond

// recutConfig is a gateway with one disk medium (never attached, so
// always gone) behind rs, whose alerts go to a webhook sink.
func recutConfig(t *testing.T, rs relay.Spec, modules ...rtu.ModuleSpec) (*config.Config, *alertSink) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.GatewayID = "gw-recut"
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.RelayModules, cfg.Relays = modules, []relay.Spec{rs}
	cfg.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: rs.Name, PasswordFile: "disk-a.restic-password",
		Disk: &disk.Spec{Name: "disk-a", Serial: "NO-SUCH-DISK", MediaID: "DANZEN-DISK-A", GoneTimeout: disk.Duration(time.Second)}}}
	sink, url := newAlertSink(t)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: url}
	return cfg, sink
}

// mediumState is the dashboard's state of medium.
func mediumState(t *testing.T, g *gateway.Gateway, medium string) status.State {
	t.Helper()
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Media {
		if m.Name == medium {
			return m.State
		}
	}
	t.Fatalf("no medium %s on the dashboard", medium)
	return ""
}

// waitState waits until the dashboard shows medium in state.
func waitState(t *testing.T, g *gateway.Gateway, medium string, want status.State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := mediumState(t, g, medium)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s shows %s, want %s", medium, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allEntries is the whole ledger.
func allEntries(t *testing.T, dir string) []ledger.Entry {
	t.Helper()
	es, err := ledger.Read(dir, ledger.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// retriedCuts are the verified cuts of medium the retry recorded.
func retriedCuts(t *testing.T, dir, medium string) []ledger.Entry {
	t.Helper()
	es, err := ledger.Read(dir, ledger.Filter{Medium: medium, Kinds: []ledger.Kind{ledger.KindPowerOffVerified}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Entry
	for _, e := range es {
		if e.Message.EN == "cut verified on retry" || e.Message.EN == "cut verified on retry (the relay module answers again)" {
			out = append(out, e)
		}
	}
	return out
}

// holdsStill checks that the ledger gains no entry for a while, though
// the retry runs (tried says how often it did).
func holdsStill(t *testing.T, dir string, tried func() int) {
	t.Helper()
	before, n := len(allEntries(t, dir)), tried()
	deadline := time.Now().Add(5 * time.Second)
	for tried() < n+3 {
		if time.Now().After(deadline) {
			t.Fatalf("the cut was not retried: %d attempts in 5s", tried()-n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after := allEntries(t, dir); len(after) != before {
		t.Fatalf("failed retries wrote %d ledger entries: %+v", len(after)-before, after[before:])
	}
}

// A relay welded at start-up is retried every interval without a ledger
// entry per attempt; once its contact lets go the retry proves the cut,
// records it once with its evidence, clears the alert and the dashboard
// shows the medium offline. Close stops the retries.
func TestWeldedRelayIsCutOnRetryOnceItLetsGo(t *testing.T) {
	rs := relay.Spec{Name: "relay-a", Driver: relay.DriverFake, Chip: "fake0", Line: 0, Sense: &relay.SenseSpec{Chip: "fake0", Line: 1},
		OnTimeout: relay.Duration(100 * time.Millisecond), OffTimeout: relay.Duration(100 * time.Millisecond)}
	cfg, sink := recutConfig(t, rs)
	board := fake.NewBoard(rs)
	fr := board.Relay("relay-a")
	fr.SetMode(fake.Welded)
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{RelaySources: map[string]relay.PinSource{relay.DriverFake: board}, RecutEvery: recutEvery})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = g.Close() // the test failed before its own Close; its error is not the point
		}
	})
	if s := mediumState(t, g, "disk-a"); s != status.Fault {
		t.Fatalf("welded at start-up shows %s, want fault", s)
	}
	holdsStill(t, cfg.LedgerDir, fr.Commands)

	fr.SetMode(fake.Healthy)
	waitState(t, g, "disk-a", status.Cut, 10*time.Second)
	es := allEntries(t, cfg.LedgerDir)
	n := len(es)
	cuts := retriedCuts(t, cfg.LedgerDir, "disk-a")
	if len(cuts) != 1 || cuts[0].Message.EN != "cut verified on retry" {
		t.Fatalf("verified retries: %+v", cuts)
	}
	if d, err := ledger.Decode[ledger.CutData](cuts[0]); err != nil || !d.SenseOff || !d.DeviceGone || d.Relay != "relay-a" {
		t.Fatalf("the retry's evidence: %+v %v", d, err)
	}
	// The proof's own relay evidence precedes it; none of the failures'.
	var evidence int
	for _, e := range es {
		if e.Seq > cuts[0].Seq-5 && e.Seq < cuts[0].Seq && (e.Kind == ledger.KindRelayCommand || e.Kind == ledger.KindRelaySense) {
			evidence++
		}
	}
	if evidence == 0 {
		t.Fatal("the verified retry stored no relay evidence")
	}
	sink.wait(t, alert.KindMediumNotOff, "disk-a", true, 1)

	// Offline again: nothing more is tried or written.
	time.Sleep(10 * recutEvery)
	if got := len(allEntries(t, cfg.LedgerDir)); got != n {
		t.Fatalf("%d entries after the medium was proven offline", got-n)
	}
	closed = true
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	c := fr.Commands()
	time.Sleep(10 * recutEvery)
	if fr.Commands() != c {
		t.Fatal("the cut is still retried after Close")
	}
}

// A relay module that stops answering keeps its medium NOT offline, its
// retries writing nothing; once it answers again the retry proves the
// cut, and says that the module answers again.
func TestRelayModuleAnsweringAgainIsCutOnRetry(t *testing.T) {
	mod := rtusim.New(1, 4)
	dev, stop, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	rs := relay.Spec{Name: "relay-a", Driver: relay.DriverModbus, Chip: "m1", Line: 0, Sense: &relay.SenseSpec{Chip: "m1", Line: 0},
		OnTimeout: relay.Duration(300 * time.Millisecond), OffTimeout: relay.Duration(300 * time.Millisecond)}
	cfg, sink := recutConfig(t, rs, rtu.ModuleSpec{Name: "m1", Device: dev, Address: 1, Timeout: rtu.Duration(100 * time.Millisecond)})
	// The contact is stuck closed at start-up: the cut is not verified.
	mod.Weld(0, true)
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{RecutEvery: recutEvery})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	if s := mediumState(t, g, "disk-a"); s != status.Fault {
		t.Fatalf("welded at start-up shows %s, want fault", s)
	}
	// Then the module falls silent, and its contact lets go meanwhile.
	mod.SetFault(rtusim.FaultNoAnswer)
	mod.Weld(0, false)
	holdsStill(t, cfg.LedgerDir, mod.Requests)
	if s := mediumState(t, g, "disk-a"); s != status.Fault {
		t.Fatalf("a silent module's medium shows %s, want fault", s)
	}

	g.WithJobLock(func() { mod.SetFault(rtusim.FaultNone) })
	waitState(t, g, "disk-a", status.Cut, 10*time.Second)
	cuts := retriedCuts(t, cfg.LedgerDir, "disk-a")
	if len(cuts) != 1 || cuts[0].Message.EN != "cut verified on retry (the relay module answers again)" {
		t.Fatalf("verified retries: %+v", cuts)
	}
	sink.wait(t, alert.KindMediumNotOff, "disk-a", true, 1)
	time.Sleep(10 * recutEvery)
	if cuts := retriedCuts(t, cfg.LedgerDir, "disk-a"); len(cuts) != 1 {
		t.Fatalf("%d verified retries, want 1", len(cuts))
	}
}

// modbusRig is a whole gateway world whose disk hangs on a simulated
// relay module, with the disk's cut given a short time to be seen gone.
func modbusRig(t *testing.T) (*rig, *rtusim.Module) {
	t.Helper()
	x := testrig.NewWith(t, map[string]string{"db/emr.dmp": "INSERT INTO karte VALUES (1);\n"}, []string{"disk-a"}, 128<<20,
		demo.HardwareOptions{Modbus: true})
	x.Cfg.Media[0].Disk.GoneTimeout = disk.Duration(3 * time.Second)
	return &rig{sshd: x.SSHD, hw: x.HW, cfg: x.Cfg, dir: x.Dir}, x.HW.Module
}

// cutFailsMidCycle runs a cycle whose relay module stops answering while
// the disk is written: its cut cannot be commanded, so the disk stays
// powered and the medium NOT offline.
func cutFailsMidCycle(t *testing.T, r *rig, g *gateway.Gateway, mod *rtusim.Module) {
	t.Helper()
	rep, err := g.RunCycle(ctxT(t), func(ev backup.CycleEvent) {
		if ev.Phase == "detach" {
			mod.SetFault(rtusim.FaultNoAnswer)
		}
	})
	if err == nil || len(rep.Media) != 1 || rep.Media[0].CutVerified {
		t.Fatalf("a cut the module did not answer was verified: %v %+v", err, rep)
	}
	if !mod.Coil(0) || r.hw.Powers["disk-a"].Loop() == nil {
		t.Fatal("the disk is not powered after a cut that could not be commanded: the test proves nothing")
	}
	if s := mediumState(t, g, "disk-a"); s != status.Fault {
		t.Fatalf("after a failed cut disk-a shows %s, want fault", s)
	}
}

// The HIL case: the module's adapter is unplugged mid-cycle, so the cut
// fails and the disk stays powered. The retry proves the cut within an
// interval of the module answering again (the disk really gone), records
// it once, and the next cycle starts from that proven off.
func TestCutNotCommandedMidCycleIsRetried(t *testing.T) {
	r, mod := modbusRig(t)
	g, err := gateway.Open(context.Background(), r.cfg, gateway.Options{RecutEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	r.prepare(t, g, "disk-a")
	cutFailsMidCycle(t, r, g, mod)
	holdsStill(t, r.cfg.LedgerDir, mod.Requests)

	// Between two retries: one that found the module silent at its check
	// and answering at its command could not prove the change (recut.go).
	g.WithJobLock(func() { mod.SetFault(rtusim.FaultNone) })
	waitState(t, g, "disk-a", status.Cut, 30*time.Second)
	if mod.Coil(0) || r.hw.Powers["disk-a"].Loop() != nil {
		t.Fatal("the medium shows offline while its disk is powered")
	}
	if cuts := retriedCuts(t, r.cfg.LedgerDir, "disk-a"); len(cuts) != 1 {
		t.Fatalf("%d verified retries, want 1", len(cuts))
	}
	rep, err := g.RunCycle(ctxT(t), nil)
	if err != nil || !rep.OK() || !rep.Media[0].CutVerified {
		t.Fatalf("the cycle after the retry: %v %+v", err, rep)
	}
	if cuts := retriedCuts(t, r.cfg.LedgerDir, "disk-a"); len(cuts) != 1 {
		t.Fatalf("%d verified retries after the next cycle, want 1", len(cuts))
	}
}

// Without a retry in between, the next session cuts and verifies first,
// so its power-on is not refused as "already ON" and the cycle succeeds.
func TestSessionCutsFirstWhenTheLastCutIsUnverified(t *testing.T) {
	r, mod := modbusRig(t)
	g, err := gateway.Open(context.Background(), r.cfg, gateway.Options{RecutEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	r.prepare(t, g, "disk-a")
	cutFailsMidCycle(t, r, g, mod)

	// Still silent: the session fails unpowered, saying why.
	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || len(rep.Media) != 1 || rep.Media[0].CutVerified || rep.Media[0].CutReason.IsZero() {
		t.Fatalf("a session over a medium not proven off ran: %v %+v", err, rep)
	}
	if s := mediumState(t, g, "disk-a"); s != status.Fault {
		t.Fatalf("disk-a shows %s, want fault", s)
	}

	mod.SetFault(rtusim.FaultNone)
	rep, err = g.RunCycle(ctxT(t), nil)
	if err != nil || !rep.OK() || !rep.Media[0].CutVerified {
		t.Fatalf("the cycle after the module answers again: %v %+v", err, rep)
	}
	es, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Medium: "disk-a", Kinds: []ledger.Kind{ledger.KindPowerOffVerified, ledger.KindPowerOn}})
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-3:]
	if last[0].Kind != ledger.KindPowerOffVerified || last[0].Message.EN != "cut verified before the power-on" ||
		last[1].Kind != ledger.KindPowerOn || last[2].Kind != ledger.KindPowerOffVerified {
		t.Fatalf("the last session's cuts and power-on: %+v", last)
	}
}
