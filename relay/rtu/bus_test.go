package rtu_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
)

var quiet = slog.New(slog.DiscardHandler)

// Generous: the machine may be loaded (-race, other builds); only the
// no-answer cases wait it out.
const reqTimeout = rtu.Duration(time.Second)

// fakeSys is a sysfs tree laid out as the kernel does for USB serial
// adapters, with relative symlinks, and a /dev whose tty nodes link to ptys.
type fakeSys struct{ sys, dev string }

func newFakeSys(t *testing.T) fakeSys {
	d := t.TempDir()
	f := fakeSys{filepath.Join(d, "sys"), filepath.Join(d, "dev")}
	mkdir(t, filepath.Join(f.sys, "class/tty"))
	mkdir(t, f.dev)
	return f
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, at string) {
	t.Helper()
	mkdir(t, filepath.Dir(at))
	if err := os.Symlink(target, at); err != nil {
		t.Fatal(err)
	}
}

// addUSB adds a USB serial adapter on port (e.g. "1-2") as tty (ttyUSB0:
// usb-serial port below the interface; ttyACM0: the interface itself), and
// links /dev/tty to dev when dev is not "".
func (f fakeSys) addUSB(t *testing.T, port, tty, serial, driver, dev string) {
	t.Helper()
	usb := filepath.Join(f.sys, "devices/pci0000:00/0000:00:14.0/usb1", port)
	write(t, filepath.Join(usb, "idVendor"), "0403\n")
	write(t, filepath.Join(usb, "idProduct"), "6001\n")
	write(t, filepath.Join(usb, "manufacturer"), "FTDI\n")
	if serial != "" {
		write(t, filepath.Join(usb, "serial"), serial+"\n")
	}
	intf := filepath.Join(usb, port+":1.0")
	devdir := intf // ttyACM: the interface is the tty's device
	if strings.HasPrefix(tty, "ttyUSB") {
		devdir = filepath.Join(intf, tty)
		link(t, "../../../../../../../bus/usb-serial/drivers/"+driver, filepath.Join(devdir, "driver"))
	} else {
		link(t, "../../../../../../bus/usb/drivers/"+driver, filepath.Join(devdir, "driver"))
	}
	ttydir := filepath.Join(devdir, "tty", tty)
	write(t, filepath.Join(ttydir, "dev"), "188:0\n")
	link(t, "../../../"+filepath.Base(devdir), filepath.Join(ttydir, "device"))
	rel, err := filepath.Rel(filepath.Join(f.sys, "class/tty"), ttydir)
	if err != nil {
		t.Fatal(err)
	}
	link(t, rel, filepath.Join(f.sys, "class/tty", tty))
	if dev != "" {
		link(t, dev, filepath.Join(f.dev, tty))
	}
}

// unplug removes tty's entries, as the kernel does on disconnect.
func (f fakeSys) unplug(t *testing.T, port, tty string) {
	t.Helper()
	for _, p := range []string{filepath.Join(f.sys, "class/tty", tty), filepath.Join(f.dev, tty),
		filepath.Join(f.sys, "devices/pci0000:00/0000:00:14.0/usb1", port)} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAdapters(t *testing.T) {
	f := newFakeSys(t)
	f.addUSB(t, "1-2", "ttyUSB0", "A10K3ZQ1", "ftdi_sio", "")
	f.addUSB(t, "1-3", "ttyACM0", "", "cdc_acm", "")
	// A board UART: not USB, not listed.
	write(t, filepath.Join(f.sys, "devices/platform/serial8250/tty/ttyS0/dev"), "4:64\n")
	link(t, "../../devices/platform/serial8250/tty/ttyS0", filepath.Join(f.sys, "class/tty/ttyS0"))

	got, err := rtu.Adapters(f.sys)
	if err != nil {
		t.Fatal(err)
	}
	want := []rtu.Adapter{
		{Serial: "", Device: "/dev/ttyACM0", Driver: "cdc_acm", Vendor: "0403", Product: "6001", Manufacturer: "FTDI"},
		{Serial: "A10K3ZQ1", Device: "/dev/ttyUSB0", Driver: "ftdi_sio", Vendor: "0403", Product: "6001", Manufacturer: "FTDI"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Adapters =\n%+v\nwant\n%+v", got, want)
	}
	if as, err := rtu.Adapters(t.TempDir()); err != nil || len(as) != 0 {
		t.Fatalf("Adapters without class/tty = %v, %v; want none", as, err)
	}
}

type bench struct {
	bus *rtu.Bus
	mod *rtusim.Module
}

// openSim serves one module at address 5 with 4 channels on a pty and opens
// a Bus on it as module "m".
func openSim(t *testing.T) bench {
	t.Helper()
	mod := rtusim.New(5, 4)
	dev, stop, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	bus, err := rtu.Open(t.Context(), []rtu.ModuleSpec{{Name: "m", Device: dev, Address: 5, Baud: 115200, Timeout: reqTimeout}}, rtu.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bus.Close(); err != nil {
			t.Error(err)
		}
	})
	return bench{bus, mod}
}

func pins(t *testing.T, b *rtu.Bus, chip string, n int) (gpio.PinOut, *rtu.Input) {
	t.Helper()
	out, err := b.Output(chip, n)
	if err != nil {
		t.Fatal(err)
	}
	in, err := b.Input(chip, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
		t.Fatal(err)
	}
	return out, in.(*rtu.Input)
}

func level(t *testing.T, in *rtu.Input) gpio.Level {
	t.Helper()
	l, err := in.ReadLevel()
	if err != nil {
		t.Fatalf("ReadLevel: %v", err)
	}
	return l
}

func rtuErr(t *testing.T, err error, kind rtu.Kind) *rtu.Error {
	t.Helper()
	var e *rtu.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *rtu.Error", err, err)
	}
	if e.Kind != kind {
		t.Fatalf("kind = %q, want %q: %v", e.Kind, kind, err)
	}
	// Worded for the vendor's engineer: which module, where, what to check.
	en := msg.In(err, msg.EN)
	for _, s := range []string{"relay module m", "address 5"} {
		if !strings.Contains(en, s) {
			t.Errorf("message %q lacks %q", en, s)
		}
	}
	if ja := msg.In(err, msg.JA); ja == en || !strings.Contains(ja, "リレーモジュール m") {
		t.Errorf("Japanese message %q", ja)
	}
	return e
}

func wantKind(t *testing.T, err error, kind rtu.Kind) {
	t.Helper()
	_ = rtuErr(t, err, kind) // it fails t itself
}

func TestCoilsAndInputs(t *testing.T) {
	b := openSim(t)
	out, in := pins(t, b.bus, "m", 2)
	if level(t, in) != gpio.Low {
		t.Fatal("input 2 reads high before any command")
	}
	if err := out.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if !b.mod.Coil(2) || level(t, in) != gpio.High || in.Read() != gpio.High {
		t.Fatalf("after ON: coil %v, input %v", b.mod.Coil(2), b.mod.Input(2))
	}
	if err := out.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if b.mod.Coil(2) || level(t, in) != gpio.Low {
		t.Fatal("after OFF the coil or input is still on")
	}
	if err := in.In(gpio.PullUp, gpio.NoEdge); err == nil {
		t.Error("In(PullUp) accepted: a module's input has its own circuit")
	}
	if err := out.PWM(gpio.DutyHalf, 0); err == nil {
		t.Error("PWM accepted on a relay coil")
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		fault rtusim.Fault
		kind  rtu.Kind
		hint  string
	}{
		{rtusim.FaultNoAnswer, rtu.KindNoAnswer, "A/B wiring"},
		{rtusim.FaultBadCRC, rtu.KindCRC, "termination resistor"},
		{rtusim.FaultNoEcho, rtu.KindNoEcho, "another device on the same address"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			b := openSim(t)
			out, in := pins(t, b.bus, "m", 0)
			b.mod.SetFault(tc.fault)
			err := out.Out(gpio.High)
			e := rtuErr(t, err, tc.kind)
			if !strings.Contains(msg.In(err, msg.EN), tc.hint) {
				t.Errorf("message %q lacks %q", msg.In(err, msg.EN), tc.hint)
			}
			if !e.Temporary() {
				t.Errorf("Temporary() = %v", e.Temporary())
			}
			if tc.fault != rtusim.FaultNoEcho {
				if _, err := in.ReadLevel(); err == nil {
					t.Error("ReadLevel gave a level from a faulty module")
				}
			}
			b.mod.SetFault(rtusim.FaultNone)
			if err := out.Out(gpio.High); err != nil {
				t.Fatalf("after the fault cleared: %v", err)
			}
		})
	}
}

func TestRefusedAddress(t *testing.T) {
	b := openSim(t)
	out, in := pins(t, b.bus, "m", 9) // the module has 4 channels
	wantKind(t, out.Out(gpio.High), rtu.KindRefused)
	_, err := in.ReadLevel()
	wantKind(t, err, rtu.KindRefused)
}

func TestPowerLoss(t *testing.T) {
	b := openSim(t)
	out1, in1 := pins(t, b.bus, "m", 1)
	_, in3 := pins(t, b.bus, "m", 3)
	if err := out1.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	b.mod.SetFault(rtusim.FaultPowerLoss)
	if b.mod.Coil(1) {
		t.Fatal("simulated power loss left coil 1 on")
	}
	_, err := in1.ReadLevel()
	wantKind(t, err, rtu.KindNoAnswer)
	b.mod.SetFault(rtusim.FaultNone) // the module is back, with all coils off
	for _, in := range []*rtu.Input{in1, in3, in1} {
		_, err := in.ReadLevel()
		e := rtuErr(t, err, rtu.KindPowerLoss)
		if !errors.Is(err, rtu.ErrPowerLoss) || len(e.Coils) != 1 || e.Coils[0] != 1 {
			t.Fatalf("power loss error = %#v", e)
		}
		if !strings.Contains(msg.In(err, msg.EN), "lost power or restarted: coil 1 dropped") {
			t.Errorf("message: %v", err)
		}
	}
	// Commanding the coil again ends the report.
	if err := out1.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if level(t, in1) != gpio.Low {
		t.Fatal("input 1 high after OFF")
	}
}

func TestReplugAdapter(t *testing.T) {
	f := newFakeSys(t)
	mod := rtusim.New(5, 4)
	dev, stop, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	bus, err := rtu.Open(t.Context(), []rtu.ModuleSpec{{Name: "m", Adapter: "A10K3ZQ1", Address: 5, Baud: 115200, Timeout: reqTimeout}},
		rtu.Options{SysRoot: f.sys, DevRoot: f.dev, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Close() }) // the port may be gone
	out, in := pins(t, bus, "m", 0)

	// Not plugged in yet.
	e := rtuErr(t, out.Out(gpio.High), rtu.KindAdapter)
	if !strings.Contains(msg.In(e, msg.EN), "adapter A10K3ZQ1") || !strings.Contains(msg.In(e, msg.EN), "not plugged in") {
		t.Errorf("message: %v", e)
	}
	f.addUSB(t, "1-2", "ttyUSB0", "A10K3ZQ1", "ftdi_sio", dev)
	if err := out.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if level(t, in) != gpio.High {
		t.Fatal("input low")
	}

	// Unplugged: the open port fails, and the next request finds the adapter
	// again under its new name.
	stop()
	f.unplug(t, "1-2", "ttyUSB0")
	e = rtuErr(t, out.Out(gpio.Low), rtu.KindAdapter)
	if !e.Temporary() {
		t.Error("an unplugged adapter is not temporary")
	}
	dev2, stop2, err := rtusim.StartPTY(context.Background(), mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop2)
	f.addUSB(t, "1-3", "ttyUSB1", "A10K3ZQ1", "ftdi_sio", dev2)
	if err := out.Out(gpio.Low); err != nil {
		t.Fatalf("after replug: %v", err)
	}
	if level(t, in) != gpio.Low || mod.Coil(0) {
		t.Fatal("coil 0 still on after replug and OFF")
	}
}

func TestSharedLine(t *testing.T) {
	m1, m2 := rtusim.New(1, 4), rtusim.New(2, 4)
	dev, stop, err := rtusim.StartPTY(context.Background(), m1, m2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	bus, err := rtu.Open(t.Context(), []rtu.ModuleSpec{
		{Name: "a", Device: dev, Address: 1, Baud: 115200, Timeout: reqTimeout},
		{Name: "b", Device: dev, Address: 2, Baud: 115200, Timeout: reqTimeout},
	}, rtu.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Close() })
	outA, inA := pins(t, bus, "a", 0)
	outB, inB := pins(t, bus, "b", 0)
	done := make(chan error, 2)
	for _, o := range []gpio.PinOut{outA, outB} {
		go func() { done <- o.Out(gpio.High) }()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if !m1.Coil(0) || !m2.Coil(0) || level(t, inA) != gpio.High || level(t, inB) != gpio.High {
		t.Fatal("both coils should be on")
	}
	if err := outB.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if !m1.Coil(0) || m2.Coil(0) {
		t.Fatal("module b's OFF reached module a")
	}
}

func TestCheckModules(t *testing.T) {
	ok := rtu.ModuleSpec{Name: "a", Adapter: "X1", Address: 1}
	for _, tc := range []struct {
		name  string
		specs []rtu.ModuleSpec
		field string
	}{
		{"dup name", []rtu.ModuleSpec{ok, {Name: "a", Adapter: "X2", Address: 1}}, "name"},
		{"same address", []rtu.ModuleSpec{ok, {Name: "b", Adapter: "X1", Address: 1}}, "address"},
		{"baud differs", []rtu.ModuleSpec{ok, {Name: "b", Adapter: "X1", Address: 2, Baud: 19200}}, "baud"},
		{"invalid", []rtu.ModuleSpec{{Name: "a", Address: 1}}, "adapter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rtu.CheckModules(tc.specs)
			var fe *fielderr.Error
			var fl *fielderr.List
			switch {
			case errors.As(err, &fe) && fe.Field == tc.field:
			case errors.As(err, &fl) && len(fl.For(tc.field)) > 0:
			default:
				t.Fatalf("CheckModules = %v, want an error on %q", err, tc.field)
			}
			if _, err := rtu.Open(t.Context(), tc.specs, rtu.Options{}); err == nil {
				t.Fatal("Open accepted it")
			}
		})
	}
	if err := rtu.CheckModules([]rtu.ModuleSpec{ok, {Name: "b", Adapter: "X1", Address: 2}, {Name: "c", Adapter: "X2", Address: 1}}); err != nil {
		t.Fatal(err)
	}
}
