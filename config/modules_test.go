package config

import (
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
)

func TestRelayModulesAreChecked(t *testing.T) {
	mod := func(name, adapter string, addr int) rtu.ModuleSpec {
		return rtu.ModuleSpec{Name: name, Adapter: adapter, Address: addr}
	}
	modbus := func(name, chip string, line int) relay.Spec {
		return relay.Spec{Name: name, Driver: relay.DriverModbus, Chip: chip, Line: line, Sense: &relay.SenseSpec{Chip: chip, Line: line}}
	}
	for name, tc := range map[string]struct {
		modules []rtu.ModuleSpec
		relays  []relay.Spec
		field   string
		says    string
	}{
		"relay names no module": {[]rtu.ModuleSpec{mod("m1", "A1", 1)}, []relay.Spec{modbus("r1", "m1", 0), modbus("r2", "m9", 0)},
			"relays[1].chip", `no relay module "m9"`},
		"sense names no module": {[]rtu.ModuleSpec{mod("m1", "A1", 1)}, []relay.Spec{modbus("r1", "m1", 0),
			{Name: "r2", Driver: relay.DriverModbus, Chip: "m1", Line: 1, Sense: &relay.SenseSpec{Chip: "m2", Line: 1}}},
			"relays[1].sense.chip", `no relay module "m2"`},
		"duplicate module name": {[]rtu.ModuleSpec{mod("m1", "A1", 1), mod("m1", "A2", 1)}, []relay.Spec{modbus("r1", "m1", 0), modbus("r2", "m1", 1)},
			"relay_modules[1].name", "used twice"},
		"same adapter and address": {[]rtu.ModuleSpec{mod("m1", "A1", 1), mod("m2", "A1", 1)}, []relay.Spec{modbus("r1", "m1", 0), modbus("r2", "m2", 0)},
			"relay_modules[1].address", "already uses address 1"},
		"invalid module": {[]rtu.ModuleSpec{mod("m1", "A1", 300)}, []relay.Spec{modbus("r1", "m1", 0), modbus("r2", "m1", 1)},
			"relay_modules[0].address", "1–247"},
		"coil active low": {[]rtu.ModuleSpec{mod("m1", "A1", 1)}, []relay.Spec{modbus("r1", "m1", 0),
			{Name: "r2", Driver: relay.DriverModbus, Chip: "m1", Line: 1, ActiveLow: true}}, "relays[1].active_low", "on or off"},
	} {
		c := validConfig()
		c.RelayModules, c.Relays = tc.modules, tc.relays
		saveErr, loadErr := savedAndLoaded(t, c)
		if saveErr == nil || loadErr == nil {
			t.Errorf("%s: save %v, load %v", name, saveErr, loadErr)
			continue
		}
		if got := fieldText(t, saveErr, tc.field); !strings.Contains(got, tc.says) {
			t.Errorf("%s: %s says %q, want %q (all: %v)", name, tc.field, got, tc.says, saveErr)
		}
	}
	c := validConfig()
	// Two modules on one adapter, one on another at the same address, one unused: fine.
	c.RelayModules = []rtu.ModuleSpec{mod("m1", "A1", 1), mod("m2", "A1", 2), mod("m3", "A2", 1), mod("spare", "A2", 2)}
	c.Relays = []relay.Spec{modbus("r1", "m1", 0), modbus("r2", "m2", 0)}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid modules refused: %v", err)
	}
}
