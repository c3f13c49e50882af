package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/netconf/netconftest"
)

// fakeClock is a gateway.TimeSync in a state the test sets.
type fakeClock struct {
	mu sync.Mutex
	st clock.Status
}

func (f *fakeClock) State() ledger.ClockState { return f.Status().State }
func (f *fakeClock) Kick()                    {}

func (f *fakeClock) Status() clock.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

// netEnv is the page of a gateway on a fake network whose rollback timers
// the test fires.
type netEnv struct {
	*env
	sys    *netconftest.System
	timers *netconftest.Timers
}

func newNetEnv(t *testing.T, st clock.Status) *netEnv {
	sys, timers := &netconftest.System{}, &netconftest.Timers{}
	m := netconf.New(netconf.Options{System: sys, Dir: t.TempDir(), AfterFunc: timers.AfterFunc})
	return &netEnv{env: newEnv(t, envOptions{network: m, timeSync: &fakeClock{st: st}}), sys: sys, timers: timers}
}

func networkForm(mode, address, ntp string) url.Values {
	return url.Values{"mode": {mode}, "address": {address}, "gateway": {""}, "dns": {""}, "hostname": {""},
		"interface": {"eth0"}, "ntp_servers": {ntp}, "time_zone": {"Asia/Tokyo"}}
}

var rtcClock = clock.Status{State: ledger.ClockRTC, HasRTC: true, Source: "rtc", Settled: true}

// The whole change: the form, the answer with the new address, the
// confirmation from there, the step done.
func TestNetworkStepConfirmedAtTheNewAddress(t *testing.T) {
	e := newNetEnv(t, rtcClock)
	c := e.login("admin", adminPW)
	page := c.get("/commission/network")
	for _, want := range []string{`id="network-form"`, `<option value="dhcp" selected>`, `id="f-ntp_servers"`, `id="f-time_zone"`, `value="Asia/Tokyo"`,
		`id="clock-state" class="bad"`, "時刻が同期されていません"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the step lacks %s", want)
		}
	}
	if strings.Contains(page.body, `id="no-rtc"`) {
		t.Error("a board with an RTC is warned it has none")
	}
	f := networkForm("static", "192.168.77.20/24", "192.168.77.1")
	f.Set("gateway", "192.168.77.1")
	r := c.post("/commission/network", f)
	if r.code != http.StatusOK || !strings.Contains(r.body, `id="network-pending"`) {
		t.Fatalf("the change's answer: %d\n%s", r.code, r.body)
	}
	port := e.srv.URL[strings.LastIndex(e.srv.URL, ":")+1:]
	if want := `href="https://192.168.77.20:` + port + `/commission/network" id="new-url"`; !strings.Contains(r.body, want) {
		t.Fatalf("the answer does not link the new address (%s):\n%s", want, r.body)
	}
	if got := e.entries(ledger.KindNetworkChange); len(got) != 1 || got[0].Actor != "admin" {
		t.Fatalf("change entries %+v", got)
	} else if d, _ := ledger.Decode[ledger.NetworkData](got[0]); d.Previous != "127.0.0.1" || d.Address != "192.168.77.20/24" {
		t.Fatalf("change data %+v", d)
	}
	if r := c.post("/commission/network/confirm", nil); !strings.Contains(r.body, `id="form-error"`) {
		t.Fatalf("confirmed before the change applied:\n%s", r.body)
	}
	e.timers.Fire(netconf.DefaultApplyDelay)
	// At the old address (what the fake applied), not yet the new one.
	if r := c.post("/commission/network/confirm", nil); !strings.Contains(r.body, "127.0.0.1") || !strings.Contains(r.body, `id="form-error"`) {
		t.Fatalf("confirmed from the old address:\n%s", r.body)
	}
	e.sys.Reach("127.0.0.1/8") // the test server's address stands for the new one
	if page := c.get("/commission/network"); !strings.Contains(page.body, `id="at-new-address"`) || !strings.Contains(page.body, `id="confirm-network"`) {
		t.Fatalf("the page at the new address does not offer the confirmation:\n%s", page.body)
	}
	r = c.post("/commission/network/confirm", nil)
	if r.code != http.StatusSeeOther || r.location != "/commission/network?done=confirmed" {
		t.Fatalf("confirm: %d %s\n%s", r.code, r.location, r.body)
	}
	if n := e.g.Config().Network; n.Mode != config.NetworkStatic || n.Address != "192.168.77.20/24" || n.Gateway != "192.168.77.1" {
		t.Fatalf("saved network %+v", n)
	}
	steps := e.entries(ledger.KindCommission)
	if len(steps) != 1 {
		t.Fatalf("commission entries %+v", steps)
	}
	if d, _ := ledger.Decode[ledger.CommissionData](steps[0]); d.Step != gateway.StepNetwork || !d.OK {
		t.Fatalf("commission data %+v", d)
	}
	if page := c.get("/commission/network?done=confirmed"); strings.Contains(page.body, `id="network-pending"`) || !strings.Contains(page.body, `id="flash"`) {
		t.Fatalf("after the confirmation:\n%s", page.body)
	}
}

func TestNetworkStepNotConfirmedGoesBack(t *testing.T) {
	e := newNetEnv(t, rtcClock)
	c := e.login("admin", adminPW)
	if r := c.post("/commission/network", networkForm("static", "192.168.77.20/24", "192.168.77.1")); !strings.Contains(r.body, `id="network-pending"`) {
		t.Fatalf("no pending change:\n%s", r.body)
	}
	if r := c.post("/commission/network", networkForm("dhcp", "", "192.168.77.1")); !strings.Contains(r.body, `id="form-error"`) {
		t.Fatalf("a second change while one waits:\n%s", r.body)
	}
	e.timers.Fire(netconf.DefaultApplyDelay)
	e.timers.Fire(netconf.DefaultApplyDelay + netconf.DefaultRollback)
	if page := c.get("/commission/network"); strings.Contains(page.body, `id="network-pending"`) {
		t.Fatal("still pending after the rollback")
	}
	if len(e.entries(ledger.KindNetworkRevert)) != 1 || len(e.entries(ledger.KindCommission)) != 0 || e.g.Config().Network.Mode != config.NetworkDHCP {
		t.Fatal("the rollback is not recorded, or the change was kept")
	}
}

// Time servers and the time zone are saved at once; mistakes stand beside
// their fields; a board without a hardware clock needs a time server.
func TestNetworkStepFieldsAndTheBoardWithoutRTC(t *testing.T) {
	e := newNetEnv(t, clock.Status{State: ledger.ClockUnsynced, Settled: true})
	c := e.login("admin", adminPW)
	page := c.get("/commission/network")
	if !strings.Contains(page.body, `id="no-rtc"`) {
		t.Error("a board without an RTC is not warned")
	}
	r := c.post("/commission/network", networkForm("dhcp", "", ""))
	if errs := fieldErrors(r.body, "ntp_servers"); len(errs) != 1 || !strings.Contains(errs[0], "RTC") {
		t.Fatalf("no time server on a board without RTC: %v\n%s", errs, r.body)
	}
	r = c.post("/commission/network", networkForm("static", "", "ntp server"))
	if len(fieldErrors(r.body, "address")) != 1 || len(fieldErrors(r.body, "ntp_servers")) != 1 || !strings.Contains(r.body, `id="error-summary"`) {
		t.Fatalf("field errors missing:\n%s", r.body)
	}
	if !strings.Contains(r.body, `value="ntp server"`) && !strings.Contains(r.body, ">ntp server</textarea>") {
		t.Error("what was typed is not shown again")
	}
	r = c.post("/commission/network", networkForm("dhcp", "", "192.168.77.1"))
	if r.code != http.StatusSeeOther || r.location != "/commission/network?done=saved" {
		t.Fatalf("save: %d %s\n%s", r.code, r.location, r.body)
	}
	if n := e.g.Config().Network; len(n.NTPServers) != 1 || n.NTPServers[0] != "192.168.77.1" || len(e.entries(ledger.KindCommission)) != 1 {
		t.Fatalf("saved %+v", n)
	}
	if len(e.sys.Applied()) != 0 {
		t.Error("a time server change touched the network")
	}
}

// The dashboard says "time not synchronised" until NTP sets the clock.
func TestDashboardSaysTimeNotSynchronised(t *testing.T) {
	e := newNetEnv(t, rtcClock)
	c := e.login("admin", adminPW)
	page := c.get("/")
	for _, want := range []string{`id="clock" class="bad"`, `data-cause="clock"`, "時刻が同期されていません"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	ntp := &fakeClock{st: clock.Status{State: ledger.ClockNTP, HasRTC: true, Source: "192.168.77.1"}}
	e2 := newEnv(t, envOptions{timeSync: ntp})
	page = e2.login("admin", adminPW).get("/")
	if !strings.Contains(page.body, `id="clock" class="ok"`) || strings.Contains(page.body, `data-cause="clock"`) {
		t.Errorf("a synchronised clock is shown as a problem")
	}
}

// A bench PC: the settings are saved, nothing is applied, no rollback.
func TestNetworkStepOnABenchPC(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.login("admin", adminPW)
	if page := c.get("/commission/network"); !strings.Contains(page.body, `id="addresses"`) || strings.Contains(page.body, `id="clock-state" class="bad"`) {
		t.Fatalf("bench PC page:\n%s", page.body)
	}
	r := c.post("/commission/network", networkForm("static", "192.168.77.20/24", ""))
	if r.code != http.StatusSeeOther || e.g.Config().Network.Address != "192.168.77.20/24" {
		t.Fatalf("save on a bench PC: %d\n%s", r.code, r.body)
	}
}
