package relay

import (
	"cmp"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Driver names accepted in Spec.Driver.
const (
	DriverGPIO      = "gpio"      // GPIO character device (/dev/gpiochip*)
	DriverFake      = "fake"      // pins from Options.Sources["fake"] (tests, demo)
	DriverSimulated = "simulated" // powers nothing; never verified
	// DriverModbus drives a Modbus RTU relay module (relay/rtu): chip names
	// the module in the configuration's relay_modules, line is the coil
	// address and the sense line a discrete input address.
	DriverModbus = "modbus"
)

// Pull values accepted in SenseSpec.Pull.
const (
	PullKeep = ""     // leave the line's bias as the kernel/firmware set it
	PullNone = "none" // bias disabled (external resistor on the board)
	PullUp   = "up"
	PullDown = "down"
)

// Defaults used when a timeout is zero. The off timeout is longer because a
// sense taken from the medium's supply falls only as its capacitors drain.
const (
	DefaultOnTimeout  = 5 * time.Second
	DefaultOffTimeout = 10 * time.Second
)

// Spec configures one relay. It is embedded in the appliance's JSON config,
// so it holds only plain JSON-friendly values.
type Spec struct {
	// Name is how media name the relay that powers them.
	Name string `json:"name"`
	// Driver is "gpio" (a GPIO line of the board or of a USB GPIO
	// adapter), "modbus" (a Modbus RTU relay module of relay_modules, for
	// boards without GPIO), "simulated" (powers nothing and is never
	// offline: a PC or VM without relays) or "fake" (pins given by tests and
	// the demo; the CLI and danzend refuse it).
	Driver string `json:"driver"`
	// Chip is the output line's GPIO chip: its label (e.g.
	// "pinctrl-rp1"), name ("gpiochip0") or path; for "modbus" the name of
	// the relay module.
	Chip string `json:"chip,omitempty"`
	// Line is the output's line offset on the chip, not the header pin
	// number; for "modbus" the coil address, from 0 (terminal CH1 is 0).
	Line int `json:"line"`
	// ActiveLow drives the line low to power the medium (relay boards
	// whose input is active low). Not for "modbus": a coil is on or off.
	ActiveLow bool `json:"active_low,omitempty"`
	// Sense is the input that proves the medium's power state. Without it a
	// cut is never reported as verified.
	Sense *SenseSpec `json:"sense,omitempty"`
	// OnTimeout is how long the sense input may take to show power after
	// the relay closes (0 takes the default, 5s).
	OnTimeout Duration `json:"on_timeout,omitempty"`
	// OffTimeout is how long it may take to show the cut after the relay
	// opens, while the supply's capacitors drain (0 takes the default, 10s).
	OffTimeout Duration `json:"off_timeout,omitempty"`
}

// SenseSpec is the sense input of a relay.
type SenseSpec struct {
	// Chip is the input's GPIO chip, named like the relay's (for
	// "modbus", a relay module).
	Chip string `json:"chip"`
	// Line is the input's line offset on that chip (for "modbus", the
	// discrete input address, from 0).
	Line int `json:"line"`
	// ActiveLow reads a low level as powered.
	ActiveLow bool `json:"active_low,omitempty"`
	// Pull biases the input: "none", "up", "down", or "" to leave it as
	// the kernel or firmware set it. Empty for "modbus": the module's
	// inputs have their own circuit.
	Pull string `json:"pull,omitempty"`
}

// Duration is written in JSON as a Go duration string ("2s", "1m30s").
type Duration = duration.Duration

// FieldError names the Spec field (as its JSON path, e.g. "sense.chip")
// that is wrong.
type FieldError = fielderr.Error

// item is how a relay's field errors name it.
func item(name string) fielderr.Item {
	return fielderr.Item{Kind: msg.T("リレー", "relay"), Name: name}
}

// Validate checks one spec and returns every problem found as a
// *fielderr.List of *FieldError, or nil.
func (s Spec) Validate() error {
	v := &fielderr.List{In: item(s.Name)}
	switch {
	case s.Name == "":
		v.Add("name", "名前が空です", "name is empty")
	case len(s.Name) > 64:
		v.Add("name", "名前は64文字以内にしてください", "name is longer than 64 characters")
	case !validName(s.Name):
		v.Add("name", "名前に使えるのは英数字と - _ . だけです", "name may contain only letters, digits, - _ .")
	}
	switch s.Driver {
	case DriverGPIO, DriverFake, DriverModbus:
		switch {
		case s.Chip == "" && s.Driver == DriverModbus:
			v.Add("chip", "リレーモジュールの名前(relay_modules の name)が空です", "the relay module's name (a relay_modules name) is empty")
		case s.Chip == "":
			v.Add("chip", "GPIO チップ(ラベルまたはデバイス名)が空です", "GPIO chip (label or device name) is empty")
		}
		if s.Driver == DriverModbus && s.ActiveLow {
			v.Add("active_low", "リレーモジュールのコイルに active_low はありません(ON か OFF だけです)", "a relay module's coil has no active_low: it is on or off")
		}
		if s.Line < 0 {
			v.Add("line", "ライン番号は0以上にしてください", "line offset must be 0 or more")
		}
		if sn := s.Sense; sn != nil {
			if sn.Chip == "" {
				v.Add("sense.chip", "センス入力の GPIO チップが空です", "sense input GPIO chip is empty")
			}
			if sn.Line < 0 {
				v.Add("sense.line", "センス入力のライン番号は0以上にしてください", "sense input line offset must be 0 or more")
			}
			// A module's coils and discrete inputs are separate address spaces.
			if sn.Chip == s.Chip && sn.Line == s.Line && s.Driver != DriverModbus {
				v.Add("sense.line", "センス入力がリレー出力と同じラインです", "sense input is the same line as the relay output")
			}
			if _, ok := pullOf(sn.Pull); !ok {
				v.Add("sense.pull", "pull は \"\"、\"none\"、\"up\"、\"down\" のいずれかです", `pull must be "", "none", "up" or "down"`)
			} else if s.Driver == DriverModbus && sn.Pull != PullKeep {
				v.Add("sense.pull", "リレーモジュールの入力に pull は設定できません(入力回路はモジュール側にあります)", "a relay module's input takes no pull: the module has its own input circuit")
			}
		}
	case DriverSimulated:
		// Lines are ignored: a copied hardware config still runs in a VM.
	case "":
		v.Add("driver", "ドライバが空です(gpio、modbus、fake、simulated)", `driver is empty (want "gpio", "modbus", "fake" or "simulated")`)
	default:
		v.AddText("driver", msg.Sprintf("不明なドライバ %q です(gpio、modbus、fake、simulated)", `unknown driver %q (want "gpio", "modbus", "fake" or "simulated")`, s.Driver))
	}
	v.Timeout("on_timeout", s.OnTimeout.Std())
	v.Timeout("off_timeout", s.OffTimeout.Std())
	return v.Err()
}

// timeout applies the defaults; Validate refuses negative timeouts.
func (s Spec) timeout(want State) time.Duration {
	if want == On {
		return cmp.Or(s.OnTimeout.Std(), DefaultOnTimeout)
	}
	return cmp.Or(s.OffTimeout.Std(), DefaultOffTimeout)
}

func validName(n string) bool {
	for _, c := range n {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}
