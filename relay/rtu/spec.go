package rtu

import (
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Serial line defaults: what most DIN-rail relay modules ship with.
const (
	DefaultBaud    = 9600
	DefaultTimeout = 500 * time.Millisecond
)

// Parity values accepted in ModuleSpec.Parity.
const (
	ParityNone = "none"
	ParityEven = "even"
	ParityOdd  = "odd"
)

// Duration is written in JSON as a Go duration string ("500ms").
type Duration = duration.Duration

// ModuleSpec configures one Modbus RTU relay module. Relays of driver
// "modbus" name it in their chip field (and their sense input's); their
// line is the coil address, their sense line the discrete input address,
// both counted from 0 as Modbus addresses them (a module's terminal "CH1"
// or "DI1" is address 0).
type ModuleSpec struct {
	// Name is what relays' chip fields name.
	Name string `json:"name"`
	// Adapter is the USB serial number of the USB–RS-485 adapter the module
	// hangs on, as the page's adapter list shows it. The appliance has no
	// udev, so the adapter is found by this number in sysfs, whichever
	// /dev/ttyUSB* it became.
	Adapter string `json:"adapter,omitempty"`
	// Device is a serial device path instead of Adapter: a board's own
	// RS-485 port (/dev/ttyS1), or the pseudo-terminal of the demo's and
	// the tests' simulated module. Exactly one of Adapter and Device is set.
	Device string `json:"device,omitempty"`
	// Address is the module's Modbus slave address (1–247).
	Address int `json:"address"`
	// Baud is the line speed (0 takes 9600).
	Baud int `json:"baud,omitempty"`
	// Parity is "none" (the default), "even" or "odd"; 8 data bits and 1
	// stop bit.
	Parity string `json:"parity,omitempty"`
	// Timeout is how long one request may wait for the module's answer (0
	// takes 500ms).
	Timeout Duration `json:"timeout,omitempty"`
}

// Item is how a module's field errors name it.
func Item(name string) fielderr.Item {
	return fielderr.Item{Kind: msg.T("リレーモジュール", "relay module"), Name: name}
}

// Validate checks one spec and returns every problem found as a
// *fielderr.List, or nil.
func (s ModuleSpec) Validate() error {
	v := &fielderr.List{In: Item(s.Name)}
	switch {
	case s.Name == "":
		v.Add("name", "名前が空です", "name is empty")
	case len(s.Name) > 64:
		v.Add("name", "名前は64文字以内にしてください", "name is longer than 64 characters")
	}
	switch {
	case s.Adapter == "" && s.Device == "":
		v.Add("adapter", "USB–RS-485 アダプタのシリアル番号(または device)が空です", "the USB–RS-485 adapter's serial number (or device) is empty")
	case s.Adapter != "" && s.Device != "":
		v.Add("device", "adapter と device はどちらか一方だけにしてください", "set either adapter or device, not both")
	}
	if s.Address < 1 || s.Address > 247 {
		v.Add("address", "Modbus アドレスは1〜247です", "the Modbus address must be 1–247")
	}
	switch s.Baud {
	case 0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200:
	default:
		v.Add("baud", "通信速度は 1200、2400、4800、9600、19200、38400、57600、115200 のいずれかです", "baud must be 1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200")
	}
	switch s.Parity {
	case "", ParityNone, ParityEven, ParityOdd:
	default:
		v.Add("parity", "パリティは none、even、odd のいずれかです", `parity must be "none", "even" or "odd"`)
	}
	v.Timeout("timeout", s.Timeout.Std())
	return v.Err()
}
