package web

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
)

// The relay form shows a GPIO relay's lines, or a Modbus relay module's
// coil and digital input; the relay modules have a form of their own,
// which lists the USB–RS-485 adapters connected now.

// gpioVariants are the relay drivers whose output is a chip's line (a
// simulated relay keeps the lines of the hardware it stands in for).
const gpioVariants = relay.DriverGPIO + " " + relay.DriverFake + " " + relay.DriverSimulated

func relayItem(c *config.Config, name string) (item, bool) {
	i := slices.IndexFunc(c.Relays, func(r relay.Spec) bool { return r.Name == name })
	if name == "" {
		c.Relays = append(c.Relays, relay.Spec{Driver: relay.DriverGPIO, Sense: &relay.SenseSpec{}})
		i = len(c.Relays) - 1
	}
	if i < 0 {
		return item{}, false
	}
	r := &c.Relays[i]
	sense := relay.SenseSpec{}
	hasSense := r.Sense != nil
	if hasSense {
		sense = *r.Sense
	}
	var b bindings
	b.addRelayCommon(r)
	b.addRelayGPIO(r, &sense, &hasSense)
	b.addRelayModbus(c, r, &sense, &hasSense)
	old, oldDriver := r.Name, r.Driver
	return item{prefix: fmt.Sprintf("relays[%d]", i), binds: b, variant: func() string { return r.Driver }, commit: func() {
		if r.Driver == relay.DriverModbus {
			if oldDriver != relay.DriverModbus {
				// A GPIO output's polarity and an input's bias mean nothing
				// on a module, whose form does not offer them.
				r.ActiveLow, sense.Pull = false, relay.PullKeep
			}
			sense.Chip = cmp.Or(sense.Chip, r.Chip) // the usual: the output's own module
		}
		r.Sense = nil
		if hasSense {
			sn := sense
			r.Sense = &sn
		}
		// A renamed relay keeps powering its media.
		if old != "" && r.Name != old {
			for j := range c.Media {
				if c.Media[j].Relay == old {
					c.Media[j].Relay = r.Name
				}
			}
		}
	}}, true
}

// relayDrivers are the drivers the relay form offers.
func relayDrivers(current string) []option {
	drivers := []option{opt(relay.DriverGPIO, "GPIO", "GPIO"),
		opt(relay.DriverModbus, "Modbus RTU リレーモジュール(USB–RS-485)", "Modbus RTU relay module (USB–RS-485)"),
		opt(relay.DriverSimulated, "simulated(オフラインではない)", "simulated (not offline)")}
	if current == relay.DriverFake { // the demo's and tests' modelled hardware only: never offered for a new relay
		drivers = append(drivers, opt(relay.DriverFake, "fake(試験用)", "fake (tests)"))
	}
	return drivers
}

// addRelayCommon adds what every relay has: its name, driver and timeouts.
func (b *bindings) addRelayCommon(r *relay.Spec) {
	sec := msg.T("リレー", "Relay")
	g, s := bindString(&r.Name)
	b.add(sec, "name", msg.T("名前", "Name"), msg.Text{}, textField, g, s)
	g, s = bindString(&r.Driver)
	b.add(sec, "driver", msg.T("ドライバ", "Driver"), msg.T("GPIO はボードの GPIO ライン、Modbus RTU は USB–RS-485 アダプタにつないだ DIN レールのリレーモジュール。simulated は何も給電せず、オフラインになりません",
		"GPIO drives a line of the board; Modbus RTU a DIN-rail relay module on a USB–RS-485 adapter. simulated powers nothing and is never offline"), selectField, g, s,
		relayDrivers(r.Driver)...)
	g, s = bindDuration(&r.OnTimeout)
	b.add(sec, "on_timeout", msg.T("通電の確認待ち", "On timeout"), emptyIsDefault(), durationField, g, s)
	g, s = bindDuration(&r.OffTimeout)
	b.add(sec, "off_timeout", msg.T("切断の確認待ち", "Off timeout"), emptyIsDefault(), durationField, g, s)
}

// addRelayGPIO adds a GPIO relay's output and sense lines.
func (b *bindings) addRelayGPIO(r *relay.Spec, sense *relay.SenseSpec, hasSense *bool) {
	out := msg.T("出力", "Output")
	in := msg.T("センス入力(切断の証明)", "Sense input (proof of the cut)")
	var g bindings
	get, set := bindString(&r.Chip)
	g.add(out, "chip", msg.T("GPIOチップ", "GPIO chip"), msg.T("例: pinctrl-rp1、gpiochip0", "e.g. pinctrl-rp1, gpiochip0"), textField, get, set)
	get, set = bindInt(&r.Line)
	g.add(out, "line", msg.T("ライン番号", "Line offset"), msg.T("ピン番号ではなくチップ上のライン番号", "the line on the chip, not the header pin"), numberField, get, set)
	get, set = bindBool(&r.ActiveLow)
	g.add(out, "active_low", msg.T("アクティブロー", "Active low"), msg.Text{}, checkField, get, set)
	get, set = bindBool(hasSense)
	g.add(in, "sense", msg.T("センス入力あり", "Has a sense input"), noSenseHelp(), checkField, get, set)
	get, set = bindString(&sense.Chip)
	g.add(in, "sense.chip", msg.T("GPIOチップ", "GPIO chip"), msg.Text{}, textField, get, set)
	get, set = bindInt(&sense.Line)
	g.add(in, "sense.line", msg.T("ライン番号", "Line offset"), msg.Text{}, numberField, get, set)
	get, set = bindBool(&sense.ActiveLow)
	g.add(in, "sense.active_low", msg.T("アクティブロー", "Active low"), msg.Text{}, checkField, get, set)
	get, set = bindString(&sense.Pull)
	g.add(in, "sense.pull", msg.T("プル", "Pull"), msg.Text{}, selectField, get, set,
		opt("", "既定", "default"), opt("none", "なし", "none"), opt("up", "プルアップ", "up"), opt("down", "プルダウン", "down"))
	*b = append(*b, g.forVariants(gpioVariants)...)
}

func noSenseHelp() msg.Text {
	return msg.T("ないと切断は確認済みになりません", "without it no cut is ever verified")
}

// addRelayModbus adds a module relay's coil and digital input: the same
// settings as a GPIO relay's chip and lines, named as the module's
// terminals are.
func (b *bindings) addRelayModbus(c *config.Config, r *relay.Spec, sense *relay.SenseSpec, hasSense *bool) {
	out := msg.T("出力(リレーモジュール)", "Output (relay module)")
	in := msg.T("センス入力(モジュールのデジタル入力、切断の証明)", "Sense input (the module's digital input; proof of the cut)")
	help := msg.T("設定の「リレーモジュール」にあるモジュール", "a module of the configuration's relay modules")
	if len(c.RelayModules) == 0 {
		help = msg.T("リレーモジュールがまだありません。先に設定の「リレーモジュール」で追加してください", "no relay module yet: add one first under Relay modules in the configuration")
	}
	var m bindings
	get, set := bindString(&r.Chip)
	m.add(out, "modbus.module", msg.T("リレーモジュール", "Relay module"), help, selectField, get, set, moduleOptions(c, opt("", "(選んでください)", "(choose one)"))...)
	get, set = bindInt(&r.Line)
	m.add(out, "modbus.coil", msg.T("コイル(CH1 = 0)", "Coil (CH1 = 0)"), msg.T("モジュールの端子 CHn はコイル n−1", "the module's terminal CHn is coil n−1"), numberField, get, set)
	get, set = bindBool(hasSense)
	m.add(in, "modbus.sense", msg.T("センス入力あり", "Has a sense input"), noSenseHelp(), checkField, get, set)
	get, set = bindString(&sense.Chip)
	m.add(in, "modbus.sense.module", msg.T("リレーモジュール", "Relay module"), msg.Text{}, selectField, get, set, moduleOptions(c, opt("", "(出力と同じモジュール)", "(the output's module)"))...)
	get, set = bindInt(&sense.Line)
	m.add(in, "modbus.sense.input", msg.T("デジタル入力(DI1 = 0)", "Digital input (DI1 = 0)"), msg.T("モジュールの端子 DIn は入力 n−1", "the module's terminal DIn is input n−1"), numberField, get, set)
	get, set = bindBool(&sense.ActiveLow)
	m.add(in, "modbus.sense.active_low", msg.T("反転(リレーOFFで入力ON: 強制ガイドリレーのNC補助接点)", "Inverted (input ON while the relay is off: a force-guided relay's NC auxiliary contact)"),
		msg.T("NC補助接点から入力に配線したときはチェックします(断線も「切断未確認」になる、最も安全な配線)", "tick it when the input is wired from the NC auxiliary contact (the safest wiring: a broken wire also shows as \"cut not verified\")"), checkField, get, set)
	paths := map[string]string{"modbus.module": "chip", "modbus.coil": "line", "modbus.sense": "sense", "modbus.sense.module": "sense.chip", "modbus.sense.input": "sense.line", "modbus.sense.active_low": "sense.active_low"}
	for i := range m {
		m[i].path = paths[m[i].key]
	}
	*b = append(*b, m.forVariants(relay.DriverModbus)...)
}

// forVariants marks b as the fields of the types named (separated by
// spaces).
func (b bindings) forVariants(variants string) bindings {
	for i := range b {
		b[i].variant = variants
	}
	return b
}

// moduleOptions are the configured relay modules, after first.
func moduleOptions(c *config.Config, first option) []option {
	out := []option{first}
	for _, m := range c.RelayModules {
		out = append(out, option{m.Name, msg.Plain(m.Name)})
	}
	return out
}

// relaySummary says where a relay is wired: a chip's lines, or a relay
// module's terminals ("module m1 CH1, DI1").
func relaySummary(rl relay.Spec) msg.Text {
	if rl.Driver != relay.DriverModbus {
		sense := msg.T("センスなし(切断は確認されません)", "no sense input (cuts are never verified)")
		if rl.Sense != nil {
			sense = msg.Sprintf("センス %s:%d", "sense %s:%d", rl.Sense.Chip, rl.Sense.Line)
		}
		return msg.Sprintf("%s %s:%d、%s", "%s %s:%d, %s", rl.Driver, rl.Chip, rl.Line, sense)
	}
	out := msg.Sprintf("モジュール %s CH%d", "module %s CH%d", rl.Chip, rl.Line+1)
	sense := msg.T("センスなし(切断は確認されません)", "no sense input (cuts are never verified)")
	switch {
	case rl.Sense == nil:
	case rl.Sense.Chip != rl.Chip:
		sense = msg.Sprintf("モジュール %s DI%d", "module %s DI%d", rl.Sense.Chip, rl.Sense.Line+1)
	default:
		sense = msg.Sprintf("DI%d", "DI%d", rl.Sense.Line+1)
	}
	return msg.Sprintf("%s、%s", "%s, %s", out, sense)
}

func moduleItem(c *config.Config, name string) (item, bool) {
	i := slices.IndexFunc(c.RelayModules, func(m rtu.ModuleSpec) bool { return m.Name == name })
	if name == "" {
		c.RelayModules = append(c.RelayModules, rtu.ModuleSpec{Address: 1})
		i = len(c.RelayModules) - 1
	}
	if i < 0 {
		return item{}, false
	}
	m := &c.RelayModules[i]
	conn := msg.T("接続(USB–RS-485 アダプタ)", "Connection (USB–RS-485 adapter)")
	line := msg.T("通信設定(モジュールの設定と同じに)", "Line settings (as set on the module)")
	var b bindings
	g, s := bindString(&m.Name)
	b.add(conn, "name", msg.T("名前", "Name"), msg.T("リレーの設定でこの名前を選びます", "relays choose the module by this name"), textField, g, s)
	g, s = bindString(&m.Adapter)
	b.add(conn, "adapter", msg.T("アダプタのシリアル番号", "Adapter serial number"), msg.T("USB–RS-485 アダプタの USB シリアル番号。下の一覧の「このアダプタを使う」で入ります", "the USB serial number of the USB–RS-485 adapter; \"Use this adapter\" in the list below fills it in"), textField, g, s)
	if m.Device != "" { // a board's own port or the demo's simulated module: set in the file, shown to be cleared
		g, s = bindString(&m.Device)
		b.add(conn, "device", msg.T("シリアルデバイス", "Serial device"), msg.T("アダプタの代わりのシリアルポート。アダプタを使うときは空欄に", "a serial port instead of an adapter; empty when an adapter is used"), textField, g, s)
	}
	g, s = bindInt(&m.Address)
	b.add(line, "address", msg.T("Modbus アドレス", "Modbus address"), msg.T("1〜247。モジュールの DIP スイッチまたは設定", "1–247, as the module's DIP switches or settings say"), numberField, g, s)
	g, s = bindKeepDefault(&m.Baud, strconv.Itoa(rtu.DefaultBaud))
	b.add(line, "baud", msg.T("通信速度(bps)", "Baud"), msg.Text{}, selectField, g, s, baudOptions()...)
	g, s = bindKeepDefault(&m.Parity, rtu.ParityNone)
	b.add(line, "parity", msg.T("パリティ", "Parity"), msg.T("データ 8 ビット、ストップ 1 ビット", "8 data bits, 1 stop bit"), selectField, g, s,
		opt(rtu.ParityNone, "なし(8N1)", "none (8N1)"), opt(rtu.ParityEven, "偶数(8E1)", "even (8E1)"), opt(rtu.ParityOdd, "奇数(8O1)", "odd (8O1)"))
	g, s = bindDuration(&m.Timeout)
	b.add(line, "timeout", msg.T("応答の待ち時間", "Answer timeout"), msg.T("空欄で既定値(0.5秒)", "empty for the default (0.5 s)"), durationField, g, s)
	old := m.Name
	return item{prefix: fmt.Sprintf("relay_modules[%d]", i), binds: b,
		useAdapter: func(serial string) { m.Adapter, m.Device = serial, "" },
		commit: func() {
			// A renamed module keeps driving its relays.
			if old == "" || m.Name == old {
				return
			}
			for j := range c.Relays {
				rl := &c.Relays[j]
				if rl.Driver != relay.DriverModbus {
					continue
				}
				if rl.Chip == old {
					rl.Chip = m.Name
				}
				if rl.Sense != nil && rl.Sense.Chip == old {
					rl.Sense.Chip = m.Name
				}
			}
		}}, true
}

func removeModule(c *config.Config, name string) bool {
	return removeNamed(&c.RelayModules, name, func(m rtu.ModuleSpec) string { return m.Name })
}

func baudOptions() []option {
	var out []option
	for _, n := range []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200} {
		out = append(out, option{strconv.Itoa(n), msg.Plain(strconv.Itoa(n))})
	}
	return out
}

// bindKeepDefault binds a setting whose zero value means def (a module's
// baud or parity): the form shows def, and choosing def keeps the zero
// value, so saving an unchanged form changes nothing in the file.
func bindKeepDefault[T int | string](p *T, def string) (func() string, func(string) error) {
	str := func(v T) string {
		var zero T
		if v == zero {
			return def
		}
		return fmt.Sprint(v)
	}
	return func() string { return str(*p) }, func(v string) error {
		v = strings.TrimSpace(v)
		if v == str(*p) {
			return nil
		}
		var zero T
		switch q := any(p).(type) {
		case *int:
			n, err := strconv.Atoi(v)
			if err != nil {
				return msg.New("整数で入力してください", "enter a whole number")
			}
			*q = n
		case *string:
			*q = v
		}
		if v == def {
			*p = zero
		}
		return nil
	}
}

// moduleRow summarises a relay module for the overview, saying whether
// its adapter is connected now.
func moduleRow(m rtu.ModuleSpec, edit string, present []rtu.Adapter) row {
	parity := map[string]string{rtu.ParityEven: "8E1", rtu.ParityOdd: "8O1"}[m.Parity]
	where := msg.Sprintf("アダプタ %s", "adapter %s", m.Adapter)
	bad := false
	switch i := slices.IndexFunc(present, func(a rtu.Adapter) bool { return a.Serial == m.Adapter }); {
	case m.Device != "":
		where = msg.Sprintf("デバイス %s", "device %s", m.Device)
	case i >= 0:
		where = msg.Sprintf("%s(%s に接続中)", "%s (connected as %s)", where, present[i].Device)
	default:
		where, bad = msg.Sprintf("%s(接続されていません)", "%s (not connected)", where), true
	}
	return row{Name: m.Name, Edit: edit, Bad: bad, Summary: msg.Sprintf("%s、アドレス %d、%d bps %s", "%s, address %d, %d baud %s",
		where, m.Address, cmp.Or(m.Baud, rtu.DefaultBaud), cmp.Or(parity, "8N1"))}
}

// moduleExtras is the module form's list of the USB serial adapters
// connected now.
type moduleExtras struct {
	Adapters []adapterView
	Err      msg.Text // the list could not be read
}

type adapterView struct {
	Serial, Device, Driver, VendorProduct, Manufacturer string
	// Current: this module's adapter; UsedBy: another module's.
	Current bool
	UsedBy  string
}

// adapterList lists the adapters for the module at it.
func (s *Server) adapterList(cfg *config.Config, it item) *moduleExtras {
	cur := ""
	if i := indexOf(it.prefix); i >= 0 && i < len(cfg.RelayModules) {
		cur = cfg.RelayModules[i].Adapter
	}
	list, err := s.adapters()
	out := &moduleExtras{}
	if err != nil {
		s.log.Warn("listing the USB serial adapters", "err", err)
		out.Err = msg.TextOf(msg.Wrap(err, "USB シリアルアダプタの一覧を読めません", "cannot list the USB serial adapters"))
	}
	for _, a := range list {
		v := adapterView{Serial: a.Serial, Device: a.Device, Driver: a.Driver, VendorProduct: a.Vendor + ":" + a.Product, Manufacturer: a.Manufacturer,
			Current: a.Serial != "" && a.Serial == cur}
		for _, m := range cfg.RelayModules {
			if !v.Current && a.Serial != "" && m.Adapter == a.Serial {
				v.UsedBy = m.Name
			}
		}
		out.Adapters = append(out.Adapters, v)
	}
	return out
}

// relayWiring is a relay's wiring as its wiring-test step says it.
func relayWiring(rs relay.Spec) msg.Text {
	switch {
	case rs.Driver == relay.DriverSimulated:
		return msg.Sprintf("ドライバ %s(何も給電・切断しません)", "driver %s (powers and cuts nothing)", rs.Driver)
	case rs.Driver == relay.DriverModbus:
		return msg.Sprintf("Modbus RTU リレーモジュール: %s", "Modbus RTU relay module: %s", relaySummary(rs))
	}
	out := msg.Sprintf("ドライバ %s、出力 %s:%d", "driver %s, output %s:%d", rs.Driver, rs.Chip, rs.Line)
	if rs.Sense != nil {
		out = msg.Sprintf("%s、センス %s:%d", "%s, sense %s:%d", out, rs.Sense.Chip, rs.Sense.Line)
	}
	return out
}
