package rtu

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"

	"github.com/danzen-gw/danzen/internal/msg"
)

var (
	_ gpio.PinOut = (*Coil)(nil)
	_ gpio.PinIn  = (*Input)(nil)
)

// Coil is a module's relay output as a gpio.PinOut: High closes the relay.
// It is never read back through the pin; the Bus reads the coils back only
// to notice a module that lost power.
type Coil struct {
	m    *module
	n    int
	last gpio.Level
	set  bool
}

func (c *Coil) String() string   { return fmt.Sprintf("modbus %s:coil %d", c.m.spec.Name, c.n) }
func (c *Coil) Halt() error      { return nil }
func (c *Coil) Name() string     { return c.String() }
func (c *Coil) Number() int      { return c.n }
func (c *Coil) Function() string { return string(c.Func()) }

// Func is OUT_HIGH or OUT_LOW after a successful Out, else OUT.
func (c *Coil) Func() pin.Func {
	switch {
	case !c.set:
		return gpio.OUT
	case c.last == gpio.High:
		return gpio.OUT_HIGH
	}
	return gpio.OUT_LOW
}

func (c *Coil) SupportedFuncs() []pin.Func { return []pin.Func{gpio.OUT} }

// SetFunc accepts OUT_HIGH and OUT_LOW (a coil is on or off).
func (c *Coil) SetFunc(f pin.Func) error {
	switch f {
	case gpio.OUT_HIGH:
		return c.Out(gpio.High)
	case gpio.OUT_LOW:
		return c.Out(gpio.Low)
	}
	return msg.Errorf("%s: 機能 %s には対応していません", "%s: function %s is not supported", c, f)
}

// Out writes the coil (Modbus function 05) and waits for the module's echo.
func (c *Coil) Out(l gpio.Level) error {
	if err := c.m.writeCoil(c.n, bool(l)); err != nil {
		return err
	}
	c.last, c.set = l, true
	return nil
}

// PWM is refused: a relay coil is on or off.
func (c *Coil) PWM(gpio.Duty, physic.Frequency) error {
	return msg.Errorf("%s: リレーに PWM はありません", "%s: a relay has no PWM", c)
}

// Input is a module's opto-isolated discrete input as a gpio.PinIn.
type Input struct {
	m *module
	n int
}

func (in *Input) String() string             { return fmt.Sprintf("modbus %s:input %d", in.m.spec.Name, in.n) }
func (in *Input) Halt() error                { return nil }
func (in *Input) Name() string               { return in.String() }
func (in *Input) Number() int                { return in.n }
func (in *Input) Function() string           { return string(in.Func()) }
func (in *Input) Func() pin.Func             { return gpio.IN }
func (in *Input) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN} }
func (in *Input) Pull() gpio.Pull            { return gpio.PullNoChange }
func (in *Input) DefaultPull() gpio.Pull     { return gpio.PullNoChange }

// SetFunc accepts IN only.
func (in *Input) SetFunc(f pin.Func) error {
	if f == gpio.IN {
		return nil
	}
	return msg.Errorf("%s: 機能 %s には対応していません", "%s: function %s is not supported", in, f)
}

// In accepts no pull (the module's inputs have their own circuit) and no
// edge detection (the module is polled).
func (in *Input) In(pull gpio.Pull, edge gpio.Edge) error {
	if pull != gpio.PullNoChange && pull != gpio.Float {
		return msg.Errorf("%s: モジュールの入力には pull を設定できません(入力回路はモジュール側にあります)",
			"%s: a module's input takes no pull (the module has its own input circuit)", in)
	}
	if edge != gpio.NoEdge {
		return msg.Errorf("%s: モジュールの入力はエッジを検出できません", "%s: a module's input cannot detect edges", in)
	}
	return nil
}

// ReadLevel reads the input (Modbus function 02), and reads back the
// coils this Bus turned on (function 01): a failed request, or a coil that
// dropped because the module lost power, is an error and never a level.
func (in *Input) ReadLevel() (gpio.Level, error) {
	v, err := in.m.readInput(in.n)
	return gpio.Level(v), err
}

// Read is ReadLevel without its error: a failed read gives Low and is
// logged. Use ReadLevel.
func (in *Input) Read() gpio.Level {
	l, err := in.ReadLevel()
	if err != nil {
		in.m.port.log.Warn("relay module: input read failed", "input", in.String(), "err", err)
		return gpio.Low
	}
	return l
}

// WaitForEdge never sees an edge: it waits out timeout and returns false.
func (in *Input) WaitForEdge(timeout time.Duration) bool {
	if timeout > 0 {
		time.Sleep(timeout)
	}
	return false
}
