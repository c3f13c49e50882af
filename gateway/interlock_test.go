package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay"
)

// timerClock is the time an interlock timer and the gateway both read;
// the test moves it.
type timerClock struct{ t atomic.Pointer[time.Time] }

func (c *timerClock) set(day, hm string) {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, mustTokyo())
	if err != nil {
		panic(err)
	}
	c.t.Store(&t)
}

func (c *timerClock) now() time.Time { return *c.t.Load() }

func mustTokyo() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}

// interlockRig is a wiring rig whose relay's coil supply runs through a
// timer programmed 01:00–05:00 every day, with alerts to a sink. On the
// module simulator the timer gates the module's coil, else the fake
// board's; timerOK false leaves the timer's contact always closed (left
// on manual), so nothing stops the power outside the window.
type interlockRig struct {
	*wiringRig
	clock *timerClock
	sink  *alertSink
	// timerOK switches the timer between working and always on.
	timerOK atomic.Bool
}

func newInterlockRig(t *testing.T, modbus bool) *interlockRig {
	t.Helper()
	w, err := relay.ParseWindow("01:00", "05:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	ir := &interlockRig{clock: &timerClock{}}
	ir.clock.set("2026-12-07", "02:00")
	ir.timerOK.Store(true)
	gate := func() bool { return !ir.timerOK.Load() || w.Contains(ir.clock.now()) }
	ir.wiringRig = newWiringRigWith(t, looptest.Healthy, true, demo.HardwareOptions{Modbus: modbus}, func(hw *demo.Hardware, cfg *config.Config, o *gateway.Options) {
		cfg.Interlock = &config.Interlock{Start: "01:00", End: "05:00"}
		cfg.Schedule, cfg.Restore.DrillSchedule = "daily 02:00", ""
		// Room for a loaded machine: the disk's ext4 identity shows a
		// moment after the disk. Outside the window the test waits this
		// long for nothing to appear.
		cfg.Media[0].Disk.AppearTimeout = config.Duration(8 * time.Second)
		sink, url := newAlertSink(t)
		ir.sink = sink
		cfg.Alerts.Webhook = &alert.WebhookSpec{URL: url}
		o.Interlock.Now = ir.clock.now
		if modbus {
			hw.Module.Gate(0, gate)
		} else {
			hw.Board.Relay(hw.Relays[0].Name).SetGate(gate)
		}
	})
	return ir
}

// interlockEntries are the ledger's interlock records, oldest first.
func (r *interlockRig) interlockEntries(t *testing.T) []ledger.InterlockData {
	t.Helper()
	return interlockRecords(t, r.cfg.LedgerDir)
}

func interlockRecords(t *testing.T, ledgerDir string) []ledger.InterlockData {
	t.Helper()
	es, err := ledger.Read(ledgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindInterlock}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.InterlockData
	for _, e := range es {
		d, err := ledger.Decode[ledger.InterlockData](e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func (r *interlockRig) wiring(t *testing.T) (gateway.CommissionJob, map[string]gateway.JobState) {
	t.Helper()
	j, err := r.g.WiringTest(context.Background(), r.relay(), "vendor")
	if err != nil {
		t.Fatal(err)
	}
	return j, stepStates(j)
}

func powered(r *interlockRig) bool {
	if r.hw.Module != nil {
		return r.hw.Module.Coil(0)
	}
	return r.hw.Board.Relay(r.relay()).Powered()
}

// TestWiringTestChecksTheInterlock walks the interlock through the page's
// wiring test, on the fake board and on the module simulator: outside the
// window before the relay is proven, a sense that stays OFF proves
// nothing; inside, the interlock cannot be checked and the test runs as
// always; outside again, the sense staying OFF and no disk appearing
// prove the timer, and the medium is recorded as never powered; a timer
// left on lets power through, which fails the step, is alerted and leaves
// the medium's power on record (not offline) until the cut is proven.
func TestWiringTestChecksTheInterlock(t *testing.T) {
	for _, c := range []struct {
		name   string
		modbus bool
	}{{"fake board", false}, {"module", true}} {
		t.Run(c.name, func(t *testing.T) { checkInterlock(t, newInterlockRig(t, c.modbus)) })
	}
}

func checkInterlock(t *testing.T, r *interlockRig) {
	r.clock.set("2026-12-07", "12:00")
	j, st := r.wiring(t)
	if st[gateway.WireInterlock] != gateway.JobFailed || st[gateway.WireAppeared] != gateway.JobSkipped || j.Err.IsZero() || powered(r) {
		t.Fatalf("outside the window before the relay is proven: %+v", j.Steps)
	}
	if c := commission(t, r.cfg, gateway.StepRelay, r.relay()); len(c) != 1 || c[0].OK {
		t.Fatalf("an unproven interlock passed the step: %+v", c)
	}

	r.clock.set("2026-12-08", "02:00")
	j, st = r.wiring(t)
	if st[gateway.WireInterlock] != gateway.JobSkipped || st[gateway.WireAppeared] != gateway.JobOK || st[gateway.WireGone] != gateway.JobOK || !j.Err.IsZero() {
		t.Fatalf("inside the window: %+v", j.Steps)
	}
	if text := j.Steps[0].Text.EN; j.Steps[0].ID != gateway.WireInterlock || !strings.Contains(text, "cannot be checked") || !strings.Contains(text, "2026-12-08 05:00") {
		t.Fatalf("inside the window the step says %q", text)
	}

	r.clock.set("2026-12-08", "12:00")
	j, st = r.wiring(t)
	if st[gateway.WireInterlock] != gateway.JobOK || st[gateway.WireRelayOn] != gateway.JobSkipped || !j.Err.IsZero() || powered(r) {
		t.Fatalf("outside the window with a working timer: %+v", j.Steps)
	}
	if c := commission(t, r.cfg, gateway.StepRelay, r.relay()); !c[len(c)-1].OK {
		t.Fatalf("a held interlock failed the step: %+v", c[len(c)-1])
	}
	if last := r.lastCut(t); last.Kind != ledger.KindPowerOffVerified {
		t.Fatalf("the medium that never had power is not recorded cut: %+v", last)
	}
	if ds := r.interlockEntries(t); len(ds) != 3 || ds[0].Checked && ds[0].Held || ds[1].Inside != true || !ds[2].Held || ds[2].Inside || ds[2].NextOpen.IsZero() {
		t.Fatalf("interlock records: %+v", ds)
	}

	r.timerOK.Store(false) // the timer left on manual
	j, st = r.wiring(t)
	if st[gateway.WireInterlock] != gateway.JobFailed || st[gateway.WireAppeared] != gateway.JobOK || st[gateway.WireGone] != gateway.JobOK || j.Err.IsZero() {
		t.Fatalf("outside the window with the timer left on: %+v", j.Steps)
	}
	r.sink.wait(t, alert.KindInterlockOpen, r.relay(), false, 1)
	if ds := r.interlockEntries(t); ds[len(ds)-1].Held || !ds[len(ds)-1].Checked || ds[len(ds)-1].Sense != string(relay.On) {
		t.Fatalf("the open interlock's record: %+v", ds[len(ds)-1])
	}
	es, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Medium: r.hw.Media[0].Name, Kinds: []ledger.Kind{ledger.KindPowerOn}})
	if err != nil || len(es) < 2 {
		t.Fatalf("the power that went through is not on record: %v %d", err, len(es))
	}
}

// TestCyclesRecordTheInterlock: each cycle records whether it started
// inside the window and whether the schedule fits; a cycle outside the
// window cannot power its medium and says that a session now needs the
// timer switched on by hand; a timer left on lets a cycle outside the
// window power the medium, which is alerted.
func TestCyclesRecordTheInterlock(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 128<<20)
	w, err := relay.ParseWindow("01:00", "05:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &timerClock{}
	clock.set("2026-12-07", "02:00")
	var timerOK atomic.Bool
	timerOK.Store(true)
	r.hw.Board.Relay("relay-disk-a").SetGate(func() bool { return !timerOK.Load() || w.Contains(clock.now()) })
	r.cfg.Interlock = &config.Interlock{Start: "01:00", End: "05:00"}
	r.cfg.Schedule, r.cfg.Restore.DrillSchedule = "daily 02:00", ""
	sink, url := newAlertSink(t)
	r.cfg.Alerts.Webhook = &alert.WebhookSpec{URL: url}
	g, err := gateway.Open(context.Background(), r.cfg, gateway.Options{RelaySources: r.hw.Sources(), Interlock: gateway.InterlockOptions{Now: clock.now}})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	r.prepare(t, g, "disk-a")

	cycles := func() []ledger.InterlockData {
		t.Helper()
		var out []ledger.InterlockData
		for _, d := range interlockRecords(t, r.cfg.LedgerDir) {
			if d.Use == "cycle" {
				out = append(out, d)
			}
		}
		return out
	}
	if rep, err := g.RunCycle(ctxT(t), nil); err != nil || !rep.OK() {
		t.Fatalf("cycle inside the window: %v %+v", err, rep)
	}
	if c := cycles(); len(c) != 1 || !c[0].Inside || !c[0].ScheduleFits || len(c[0].Relays) != 1 {
		t.Fatalf("cycle records: %+v", c)
	}

	clock.set("2026-12-07", "12:00")
	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || rep.OK() {
		t.Fatalf("a cycle outside the window wrote its medium: %+v", rep)
	}
	if got := msg.In(err, msg.EN) + fmt.Sprintf("%v", rep.Media); !strings.Contains(got, "switch the timer on by hand") {
		t.Errorf("the failure does not say how to run now: %s", got)
	}
	if c := cycles(); len(c) != 2 || c[1].Inside || !c[1].ScheduleFits || c[1].NextOpen.IsZero() {
		t.Fatalf("cycle records: %+v", c)
	}

	timerOK.Store(false) // left on manual: power goes through outside the window
	if _, err := g.RunCycle(ctxT(t), nil); err != nil {
		t.Logf("cycle with the timer left on: %v", err)
	}
	sink.wait(t, alert.KindInterlockOpen, "relay-disk-a", false, 1)
}
