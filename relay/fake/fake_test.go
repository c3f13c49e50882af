package fake_test

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/fake"
)

func board(t *testing.T, outLow, senseLow bool) (*fake.Board, gpio.PinOut, gpio.PinIn) {
	t.Helper()
	b := fake.NewBoard(relay.Spec{Name: "r", Driver: "fake", Chip: "c", Line: 1, ActiveLow: outLow,
		Sense: &relay.SenseSpec{Chip: "c", Line: 2, ActiveLow: senseLow}})
	out, err := b.Output("c", 1)
	if err != nil {
		t.Fatal(err)
	}
	in, err := b.Input("c", 2)
	if err != nil {
		t.Fatal(err)
	}
	return b, out, in
}

func TestCoupling(t *testing.T) {
	b, out, in := board(t, true, true)
	r := b.Relay("r")
	if in.Read() != gpio.High { // active-low sense, medium off
		t.Fatal("sense should read inactive (High) before any command")
	}
	r.SetDelays(40*time.Millisecond, 0)
	if err := out.Out(gpio.Low); err != nil { // active-low output: Low energises
		t.Fatal(err)
	}
	if !r.Energised() || in.Read() != gpio.High {
		t.Fatal("sense followed before the on delay")
	}
	time.Sleep(60 * time.Millisecond)
	if in.Read() != gpio.Low || !r.Powered() {
		t.Fatal("sense did not follow after the on delay")
	}
	if err := out.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if in.Read() != gpio.High || r.Powered() || r.Commands() != 2 {
		t.Fatal("sense did not follow the cut")
	}
}

func TestModes(t *testing.T) {
	b, out, in := board(t, false, false)
	r := b.Relay("r")
	r.SetMode(fake.Welded)
	if !r.Powered() || in.Read() != gpio.High {
		t.Fatal("welded relay should power the medium even undriven")
	}
	r.SetMode(fake.StuckOff)
	_ = out.Out(gpio.High)
	if r.Powered() || in.Read() != gpio.Low {
		t.Fatal("stuck-off relay powered the medium")
	}
	r.SetMode(fake.SenseBroken)
	if !r.Powered() || in.Read() != gpio.Low {
		t.Fatal("broken sense should read inactive while the medium is powered")
	}
	r.SetMode(fake.SenseFloating)
	if a, c := in.Read(), in.Read(); a == c {
		t.Fatal("floating sense should not read the same level twice in a row")
	}
	r.SetMode(fake.SlowRelease)
	_ = out.Out(gpio.Low)
	if !r.Powered() || in.Read() != gpio.High {
		t.Fatal("slow release dropped at once")
	}
}

func TestOutputReadDropsRelay(t *testing.T) {
	b, out, _ := board(t, false, false)
	r := b.Relay("r")
	_ = out.Out(gpio.High)
	out.(gpio.PinIO).Read() // what gpioioctl does to an output: it becomes an input
	if r.OutputReads() != 1 || r.Energised() {
		t.Fatalf("reads=%d energised=%v, want 1 and false", r.OutputReads(), r.Energised())
	}
}

func TestWiringErrors(t *testing.T) {
	b, _, in := board(t, false, false)
	if _, err := b.Output("c", 9); err == nil {
		t.Fatal("unwired output opened")
	}
	if _, err := b.Input("d", 2); err == nil {
		t.Fatal("unwired input opened")
	}
	if err := in.(gpio.PinIO).Out(gpio.High); err == nil {
		t.Fatal("driving the sense line succeeded")
	}
	if b.Relay("nope") != nil {
		t.Fatal("unknown relay returned")
	}
}
