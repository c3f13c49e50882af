package relay_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
)

// modbusSpec is relay name on coil n of module chip, sensed by input n.
func modbusSpec(name, chip string, n int) relay.Spec {
	return relay.Spec{Name: name, Driver: relay.DriverModbus, Chip: chip, Line: n,
		Sense: &relay.SenseSpec{Chip: chip, Line: n}, OnTimeout: modbusTimeout, OffTimeout: modbusTimeout}
}

func moduleSpec(name, dev string, addr int) rtu.ModuleSpec {
	return rtu.ModuleSpec{Name: name, Device: dev, Address: addr, Baud: 115200, Timeout: rtu.Duration(100 * time.Millisecond)}
}

// A loaded machine (-race, other builds) may answer late: the module
// timeout leaves room for that, and the relay's for a few retries.
const modbusTimeout = relay.Duration(600 * time.Millisecond)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openModbus serves mods on one pty and opens specs through
// Options.Modules, as danzend does (modules "m1", "m2", … by position).
func openModbus(t *testing.T, specs []relay.Spec, mods ...*rtusim.Module) (*relay.Set, *recorder) {
	t.Helper()
	// Not t.Context(): it ends before the cleanups, and the pty must outlive
	// the Set, or a reopening Set may take a freed /dev/pts number that
	// another test process has just been given.
	dev, stop, err := rtusim.StartPTY(context.Background(), mods[0], mods[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	var ms []rtu.ModuleSpec
	for i := range mods {
		ms = append(ms, moduleSpec("m"+string(rune('1'+i)), dev, i+1))
	}
	rec := &recorder{}
	set, err := relay.Open(t.Context(), specs, relay.Options{Modules: ms, Observer: rec.add, Logger: quiet, Poll: 2 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = set.Close() })
	return set, rec
}

// proven brings r to a verified OFF: start-up AllOff, then ON and OFF.
func proven(t *testing.T, set *relay.Set, r *relay.Relay) {
	t.Helper()
	if _, err := set.AllOff(t.Context()); err != nil {
		t.Fatalf("AllOff: %v", err)
	}
	res, err := r.On(t.Context())
	mustVerified(t, res, err, relay.On)
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)
}

// moduleFault asserts a not-verified result for cause whose error wraps
// an *rtu.Error of kind, with text (English) in its message.
func moduleFault(t *testing.T, res relay.Result, err error, cause relay.Cause, kind rtu.Kind, text string) {
	t.Helper()
	if res.Verified {
		t.Fatalf("result verified despite the fault: %+v", res)
	}
	wantCause(t, err, cause)
	var re *rtu.Error
	if !errors.As(err, &re) || re.Kind != kind {
		t.Fatalf("error %v: want a wrapped *rtu.Error of kind %q", err, kind)
	}
	if en := msg.In(err, msg.EN); !strings.Contains(en, text) {
		t.Fatalf("message %q lacks %q", en, text)
	}
	if res.Reason.IsZero() {
		t.Fatal("no reason given")
	}
}

func TestModbusOnOffVerified(t *testing.T) {
	mod := rtusim.New(1, 4)
	set, rec := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 2)}, mod)
	r := get(t, set, "disk-a")
	res, err := set.AllOff(t.Context())
	if err != nil || res[0].Verified || res[0].Sense != relay.Off || res[0].Reason != relay.ReasonUnproven() {
		t.Fatalf("start-up AllOff = %+v, %v; want unproven OFF", res, err)
	}
	on, err := r.On(t.Context())
	mustVerified(t, on, err, relay.On)
	if !mod.Coil(2) {
		t.Fatal("coil 2 is off after a verified ON")
	}
	off, err := r.Off(t.Context())
	mustVerified(t, off, err, relay.Off)
	if mod.Coil(2) {
		t.Fatal("coil 2 is on after a verified OFF")
	}
	evs := rec.take("disk-a")
	if last := evs[len(evs)-1]; last.Kind != relay.KindSense || !last.Verified {
		t.Fatalf("last event = %+v", last)
	}
}

func TestModbusFaults(t *testing.T) {
	on := func(r *relay.Relay, t *testing.T) (relay.Result, error) { return r.On(t.Context()) }
	off := func(r *relay.Relay, t *testing.T) (relay.Result, error) { return r.Off(t.Context()) }
	for _, tc := range []struct {
		name  string
		fault rtusim.Fault
		op    func(*relay.Relay, *testing.T) (relay.Result, error)
		kind  rtu.Kind
		text  string
	}{
		{"no answer on", rtusim.FaultNoAnswer, on, rtu.KindNoAnswer, "no answer: check the A/B wiring"},
		{"no answer off", rtusim.FaultNoAnswer, off, rtu.KindNoAnswer, "no answer"},
		{"bad CRC off", rtusim.FaultBadCRC, off, rtu.KindCRC, "termination resistor"},
		{"no echo on", rtusim.FaultNoEcho, on, rtu.KindNoEcho, "another device on the same address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mod := rtusim.New(1, 4)
			set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
			r := get(t, set, "disk-a")
			proven(t, set, r)
			mod.SetFault(tc.fault)
			res, err := tc.op(r, t)
			// The check before the command fails too, but the command's failure is what counts.
			moduleFault(t, res, err, relay.CauseCommand, tc.kind, tc.text)
			mod.SetFault(rtusim.FaultNone)
		})
	}
}

func TestModbusPowerLoss(t *testing.T) {
	mod := rtusim.New(1, 4)
	set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
	r := get(t, set, "disk-a")
	proven(t, set, r)
	res, err := r.On(t.Context())
	mustVerified(t, res, err, relay.On)

	// The module loses power while the medium is on, and comes back.
	mod.SetFault(rtusim.FaultPowerLoss)
	mod.SetFault(rtusim.FaultNone)
	res, err = r.Off(t.Context())
	moduleFault(t, res, err, relay.CausePowerLoss, rtu.KindPowerLoss, "lost power or restarted")
	if strings.Contains(msg.In(err, msg.EN), "no change") || strings.Contains(msg.In(err, msg.EN), "already read") {
		t.Fatalf("power loss reported as a stuck relay: %v", err)
	}
	// The next cycle proves the relay again.
	res, err = r.On(t.Context())
	mustVerified(t, res, err, relay.On)
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)
}

func TestModbusPowerLossDuringOn(t *testing.T) {
	mod := rtusim.New(1, 4)
	set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
	r := get(t, set, "disk-a")
	proven(t, set, r)
	// Power fails right after the coil closes and returns 50ms later.
	mod.OnCoil(func(_ int, on bool) {
		if on {
			go func() {
				mod.SetFault(rtusim.FaultPowerLoss)
				time.Sleep(50 * time.Millisecond)
				mod.SetFault(rtusim.FaultNone)
			}()
		}
	})
	res, err := r.On(t.Context())
	if res.Verified || err == nil {
		t.Fatalf("ON through a power loss verified: %+v", res)
	}
	var nv *relay.NotVerifiedError
	if !errors.As(err, &nv) || (nv.Cause != relay.CausePowerLoss && nv.Cause != relay.CauseLink) {
		t.Fatalf("error = %v, want module power loss or link", err)
	}
}

func TestModbusSenseFaults(t *testing.T) {
	t.Run("welded", func(t *testing.T) {
		mod := rtusim.New(1, 4)
		set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
		r := get(t, set, "disk-a")
		proven(t, set, r)
		res, err := r.On(t.Context())
		mustVerified(t, res, err, relay.On)
		mod.Weld(0, true)
		res, err = r.Off(t.Context())
		if res.Verified || res.Sense != relay.On {
			t.Fatalf("welded OFF = %+v", res)
		}
		wantCause(t, err, relay.CauseSense)
	})
	t.Run("forced input", func(t *testing.T) {
		mod := rtusim.New(1, 4)
		set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
		r := get(t, set, "disk-a")
		proven(t, set, r)
		high := true
		mod.ForceInput(0, &high)
		res, err := r.On(t.Context())
		if res.Verified {
			t.Fatalf("ON with an input stuck high verified: %+v", res)
		}
		wantCause(t, err, relay.CauseNoChange)
		low := false
		mod.ForceInput(0, &low)
		res, err = r.On(t.Context())
		if res.Verified {
			t.Fatalf("ON with an input stuck low verified: %+v", res)
		}
		wantCause(t, err, relay.CauseSense)
	})
}

func TestModbusTransientCRC(t *testing.T) {
	mod := rtusim.New(1, 4)
	set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
	r := get(t, set, "disk-a")
	proven(t, set, r)
	res, err := r.On(t.Context())
	mustVerified(t, res, err, relay.On)
	// One garbled answer right after the coil opens: the first confirm read.
	mod.OnCoil(func(_ int, on bool) {
		if !on {
			mod.FailNext(rtusim.FaultBadCRC, 1)
		}
	})
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)
	// One garbled answer to the command itself: the write is repeated.
	mod.OnCoil(nil)
	mod.FailNextWrite(rtusim.FaultBadCRC, 1) // applied, but its answer is garbled
	res, err = r.On(t.Context())
	mustVerified(t, res, err, relay.On)
}

func TestModbusLinkDuringConfirm(t *testing.T) {
	mod := rtusim.New(1, 4)
	set, _ := openModbus(t, []relay.Spec{modbusSpec("disk-a", "m1", 0)}, mod)
	r := get(t, set, "disk-a")
	proven(t, set, r)
	// The write is answered, then the module falls silent.
	mod.OnCoil(func(int, bool) { mod.SetFault(rtusim.FaultNoAnswer) })
	res, err := r.On(t.Context())
	moduleFault(t, res, err, relay.CauseLink, rtu.KindNoAnswer, "did not answer or answered wrongly")
	if res.Sense != relay.Unknown {
		t.Fatalf("sense = %s, want unknown: a failed read is never a level", res.Sense)
	}
}

func TestModbusSharedLine(t *testing.T) {
	m1, m2 := rtusim.New(1, 4), rtusim.New(2, 4)
	set, _ := openModbus(t, []relay.Spec{modbusSpec("a", "m1", 0), modbusSpec("b", "m1", 1), modbusSpec("c", "m2", 0)}, m1, m2)
	if _, err := set.AllOff(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		res, err := get(t, set, name).On(t.Context())
		mustVerified(t, res, err, relay.On)
	}
	if !m1.Coil(0) || !m1.Coil(1) || !m2.Coil(0) {
		t.Fatal("coils not all on")
	}
	res, err := set.AllOff(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Verified {
			t.Fatalf("AllOff: %+v", r)
		}
	}
}

func TestModbusReplug(t *testing.T) {
	mod := rtusim.New(1, 4)
	dev, stop, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop) // idempotent; runs after the Set is closed
	// The adapter's device node is a link that the test repoints.
	devDir := t.TempDir()
	node := devDir + "/ttyRS485"
	relink := func(target string) {
		t.Helper()
		_ = os.Remove(node) // absent the first time
		if err := os.Symlink(target, node); err != nil {
			t.Fatal(err)
		}
	}
	relink(dev)
	// The pty is freed only after the Set is closed: a freed /dev/pts number
	// can go to another test process, whose bytes a reopening Set would take.
	var stop2 func()
	t.Cleanup(func() {
		if stop2 != nil {
			stop2()
		}
	})
	bus, err := rtu.Open(t.Context(), []rtu.ModuleSpec{moduleSpec("m1", node, 1)}, rtu.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Close() })
	set, err := relay.Open(t.Context(), []relay.Spec{modbusSpec("disk-a", "m1", 0)},
		relay.Options{Sources: map[string]relay.PinSource{relay.DriverModbus: bus}, Logger: quiet, Poll: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	r := get(t, set, "disk-a")
	proven(t, set, r)
	res, err := r.On(t.Context())
	mustVerified(t, res, err, relay.On)

	stop() // unplugged
	dev2, stopNew, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	stop2 = stopNew
	relink(dev2) // back, under another name
	// The first reading hits the dead port, which is closed and found again.
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)
	if mod.Coil(0) {
		t.Fatal("coil on after OFF through a replugged adapter")
	}
	res, err = r.On(t.Context())
	mustVerified(t, res, err, relay.On)
	res, err = r.Off(t.Context())
	mustVerified(t, res, err, relay.Off)
}

func TestModbusSpecRules(t *testing.T) {
	s := modbusSpec("disk-a", "m1", 0)
	s.ActiveLow = true
	s.Sense.Pull = relay.PullUp
	err := s.Validate()
	for _, f := range []string{"active_low", "sense.pull"} {
		if !strings.Contains(msg.In(err, msg.EN), f) {
			t.Errorf("Validate = %v, want an error on %s", err, f)
		}
	}
	_, err = relay.Open(t.Context(), []relay.Spec{modbusSpec("disk-a", "nope", 0)}, relay.Options{Modules: []rtu.ModuleSpec{moduleSpec("m1", "/dev/null", 1)}, Logger: quiet})
	if err == nil || !strings.Contains(msg.In(err, msg.EN), `no relay module "nope"`) {
		t.Fatalf("Open with an unknown module = %v", err)
	}
}
