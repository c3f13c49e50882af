package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/relay"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/relay/rtu/rtusim"
)

// withModule configures a gateway whose relay relay-a is coil 0 of a
// simulated Modbus module m1 on a pseudo-terminal, its sense discrete
// input 0.
func withModule(t *testing.T) func(dir string, cfg *config.Config) {
	return func(dir string, cfg *config.Config) {
		withSource(dir, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		dev, stop, err := rtusim.StartPTY(ctx, rtusim.New(1, 4))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		// Registered before the gateway's own cleanup, so it runs after it:
		// the gateway's last cut still finds the module.
		t.Cleanup(func() { stop(); cancel() })
		cfg.RelayModules = []rtu.ModuleSpec{{Name: "m1", Device: dev, Address: 1, Timeout: rtu.Duration(300 * time.Millisecond)}}
		cfg.Relays = []relay.Spec{{Name: "relay-a", Driver: relay.DriverModbus, Chip: "m1", Line: 0, Sense: &relay.SenseSpec{Chip: "m1", Line: 0}}}
	}
}

func relayOf(c *config.Config, name string) (relay.Spec, bool) {
	for _, r := range c.Relays {
		if r.Name == name {
			return r, true
		}
	}
	return relay.Spec{}, false
}

func adaptersOf(list ...rtu.Adapter) func() ([]rtu.Adapter, error) {
	return func() ([]rtu.Adapter, error) { return list, nil }
}

func TestModbusRelayOnTheOverviewAndItsForm(t *testing.T) {
	e := newEnv(t, envOptions{configure: withModule(t)})
	c := e.login("admin", adminPW)
	r := c.get("/config")
	body := htmlUnescape(r.body)
	if r.code != http.StatusOK || !strings.Contains(body, "モジュール m1 CH1、DI1") || strings.Contains(body, "modbus m1:0") {
		t.Fatalf("the relay's row does not name the module's terminals: %d\n%s", r.code, body)
	}
	if !strings.Contains(body, `id="modules"`) || !strings.Contains(body, `href="/config/module?name=m1"`) || !strings.Contains(body, "デバイス /dev/") {
		t.Errorf("the module is not listed on the overview:\n%s", body)
	}
	r = c.get("/config/relay?name=relay-a")
	body = htmlUnescape(r.body)
	for _, want := range []string{
		`<option value="modbus" selected>Modbus RTU リレーモジュール(USB–RS-485)</option>`,
		`<select name="modbus.module" id="f-modbus.module">`, `<option value="m1" selected>m1</option>`,
		"コイル(CH1 = 0)", "デジタル入力(DI1 = 0)", `data-variant="modbus"`, `data-variant="gpio fake simulated"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the relay form lacks %s", want)
		}
	}
	// A coil has no polarity and a module's input no bias: only the
	// input's inversion (NC auxiliary contact wiring) is a module's.
	if i := strings.Index(body, `data-variant="modbus"`); i < 0 || strings.Contains(body[i:], `name="active_low"`) || strings.Contains(body[i:], "sense.pull") ||
		!strings.Contains(body[i:], `name="modbus.sense.active_low"`) {
		t.Error("a module relay's form must offer the input's inversion and neither the output's active low nor a pull")
	}
	// A second relay on coil 2 and input 2 of the same module.
	r = c.postWithBase("/config/relay", url.Values{"orig": {""}, "name": {"relay-b"}, "driver": {"modbus"}, "modbus.module": {"m1"}, "modbus.coil": {"1"},
		"modbus.sense": {"on"}, "modbus.sense.module": {""}, "modbus.sense.input": {"1"}, "chip": {"ignored"}, "line": {"9"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("saving a module relay: %d\n%s", r.code, htmlUnescape(r.body))
	}
	rl, ok := relayOf(e.g.Config(), "relay-b")
	if !ok || rl.Driver != relay.DriverModbus || rl.Chip != "m1" || rl.Line != 1 || rl.Sense == nil || rl.Sense.Chip != "m1" || rl.Sense.Line != 1 || rl.Sense.ActiveLow || rl.ActiveLow {
		t.Fatalf("saved: %+v %+v", rl, rl.Sense)
	}
	if r := c.get("/config"); !strings.Contains(htmlUnescape(r.body), "モジュール m1 CH2、DI2") {
		t.Error("the second relay's row")
	}
}

func TestRelayNamingNoModuleIsRefusedBesideTheField(t *testing.T) {
	e := newEnv(t, envOptions{configure: withModule(t)})
	c := e.login("admin", adminPW)
	before := fileOf(t, e.dir+"/config.json")
	r := c.postWithBase("/config/relay", url.Values{"orig": {""}, "name": {"relay-b"}, "driver": {"modbus"}, "modbus.module": {"m9"}, "modbus.coil": {"1"},
		"modbus.sense": {"on"}, "modbus.sense.module": {"m1"}, "modbus.sense.input": {"1"}})
	body := htmlUnescape(r.body)
	if errs := fieldErrors(body, "modbus.module"); r.code != http.StatusOK || len(errs) == 0 || !strings.Contains(errs[0], "m9") {
		t.Fatalf("no message beside the module: %d %q\n%s", r.code, errs, body)
	}
	if errs := fieldErrors(body, "chip"); len(errs) != 0 {
		t.Errorf("the message also stands beside the hidden GPIO chip: %q", errs)
	}
	if n := len(summaryItems(body)); n != 1 {
		t.Errorf("summary lists %d problems, want 1", n)
	}
	if fileOf(t, e.dir+"/config.json") != before {
		t.Fatal("a relay naming no module was saved")
	}
}

func TestModuleFormListsAdaptersAndUsesOne(t *testing.T) {
	ftdi := rtu.Adapter{Serial: "FT4ZQ8A1", Device: "/dev/ttyUSB0", Driver: "ftdi_sio", Vendor: "0403", Product: "6001", Manufacturer: "FTDI"}
	ch341 := rtu.Adapter{Device: "/dev/ttyUSB1", Driver: "ch341", Vendor: "1a86", Product: "7523"}
	e := newEnv(t, envOptions{configure: withSource, adapters: adaptersOf(ftdi, ch341)})
	c := e.login("admin", adminPW)
	r := c.get("/config/module")
	body := htmlUnescape(r.body)
	for _, want := range []string{`id="adapter-list"`, "<code>FT4ZQ8A1</code>", "<code>/dev/ttyUSB0</code>", "ftdi_sio", "<code>0403:6001</code>",
		`name="use_adapter" value="FT4ZQ8A1"`, "シリアル番号がないため見分けられません"} {
		if !strings.Contains(body, want) {
			t.Errorf("the module form lacks %s", want)
		}
	}
	if strings.Contains(body, `name="device"`) {
		t.Error("a new module offers a serial device")
	}
	r = c.postWithBase("/config/module", url.Values{"orig": {""}, "name": {"din-relay"}, "adapter": {""}, "address": {"3"}, "baud": {"9600"},
		"parity": {"even"}, "timeout": {""}, "use_adapter": {"FT4ZQ8A1"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("use this adapter: %d\n%s", r.code, htmlUnescape(r.body))
	}
	saved := e.savedConfig().RelayModules
	if len(saved) != 1 || saved[0] != (rtu.ModuleSpec{Name: "din-relay", Adapter: "FT4ZQ8A1", Address: 3, Parity: rtu.ParityEven}) {
		t.Fatalf("saved: %+v", saved)
	}
	r = c.get("/config/module?name=din-relay")
	if body := htmlUnescape(r.body); !strings.Contains(body, "このモジュールが使用中") || strings.Contains(body, `value="FT4ZQ8A1" class="secondary"`) {
		t.Errorf("the module's own adapter is not marked:\n%s", body)
	}
	if r := c.get("/config"); !strings.Contains(htmlUnescape(r.body), "アダプタ FT4ZQ8A1(/dev/ttyUSB0 に接続中)、アドレス 3、9600 bps 8E1") {
		t.Errorf("overview row:\n%s", htmlUnescape(r.body))
	}
	// Saved again unchanged: the default baud stays left out of the file.
	r = c.postWithBase("/config/module", url.Values{"orig": {"din-relay"}, "name": {"din-relay"}, "adapter": {"FT4ZQ8A1"}, "address": {"3"}, "baud": {"9600"},
		"parity": {"even"}, "timeout": {""}})
	if r.code != http.StatusSeeOther || !strings.Contains(r.location, "nochange") {
		t.Errorf("an unchanged module form: %d %s", r.code, r.location)
	}
}

func TestModuleFormSaysWhenNoAdapterIsConnected(t *testing.T) {
	e := newEnv(t, envOptions{configure: withSource, adapters: adaptersOf()})
	c := e.login("admin", adminPW)
	body := htmlUnescape(c.get("/config/module").body)
	if !strings.Contains(body, `id="no-adapter"`) || !strings.Contains(body, "USB–RS-485 アダプタが接続されていません") {
		t.Fatalf("no adapter, not said:\n%s", body)
	}
	if body := htmlUnescape(c.get("/config/module?lang=en").body); !strings.Contains(body, "No USB–RS-485 adapter is connected") {
		t.Fatalf("in English:\n%s", body)
	}
}

func TestRenamedModuleKeepsItsRelays(t *testing.T) {
	e := newEnv(t, envOptions{configure: withModule(t)})
	c := e.login("admin", adminPW)
	m := e.g.Config().RelayModules[0]
	r := c.postWithBase("/config/module", url.Values{"orig": {"m1"}, "name": {"din-1"}, "adapter": {""}, "device": {m.Device}, "address": {"1"},
		"baud": {"9600"}, "parity": {"none"}, "timeout": {"300ms"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("rename: %d\n%s", r.code, htmlUnescape(r.body))
	}
	rl, _ := relayOf(e.g.Config(), "relay-a")
	if rl.Chip != "din-1" || rl.Sense.Chip != "din-1" {
		t.Fatalf("the relay lost its module: %+v %+v", rl, rl.Sense)
	}
}

// TestRelayDriverInBrowser switches a new relay to the module driver in
// headless Chromium: form.js shows the module's fields instead of the
// GPIO lines.
func TestRelayDriverInBrowser(t *testing.T) {
	e := newEnv(t, envOptions{configure: withModule(t)})
	b := e.browser("/config/relay", "config-form")
	shown := func() string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("fieldset[data-variant]")].filter(f => f.offsetParent !== null).map(f => f.dataset.variant).join(",")`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := shown(); s != "gpio fake simulated,gpio fake simulated" {
		t.Fatalf("a new relay shows %q, want the GPIO lines only", s)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('select[name="driver"]'); s.value = "modbus"; s.dispatchEvent(new Event("change")); return true })()`)); err != nil {
		t.Fatal(err)
	}
	if s := shown(); s != "modbus,modbus" {
		t.Fatalf("after choosing modbus the page shows %q", s)
	}
	b.step("fill", chromedp.SendKeys(chromedp.CSS(`[name="name"]`), "relay-b"),
		chromedp.SetValue(chromedp.CSS(`[name="modbus.module"]`), "m1"),
		chromedp.SetValue(chromedp.CSS(`[name="modbus.coil"]`), "2"),
		chromedp.SetValue(chromedp.CSS(`[name="modbus.sense.input"]`), "2"),
		chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("flash")))
	rl, ok := relayOf(e.g.Config(), "relay-b")
	if !ok || rl.Driver != relay.DriverModbus || rl.Chip != "m1" || rl.Line != 2 || rl.Sense == nil || rl.Sense.Chip != "m1" || rl.Sense.Line != 2 {
		t.Fatalf("saved from the browser: %+v", rl)
	}
}
