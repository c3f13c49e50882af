package gateway_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/netconf/netconftest"
)

// fakeTime is a gateway.TimeSync whose state the test sets.
type fakeTime struct {
	mu     sync.Mutex
	st     clock.Status
	kicked int
}

func (f *fakeTime) State() ledger.ClockState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.State
}

func (f *fakeTime) Status() clock.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeTime) Kick() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kicked++
}

func (f *fakeTime) kicks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kicked
}

// netRig is a gateway on a fake network with a rollback timer the test
// fires.
type netRig struct {
	g      *gateway.Gateway
	sys    *netconftest.System
	timers *netconftest.Timers
	time   *fakeTime
	path   string
	cfg    *config.Config
}

func newNetRig(t *testing.T, hasRTC bool, change func(*config.Config)) *netRig {
	t.Helper()
	dir := t.TempDir()
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &netRig{sys: &netconftest.System{}, timers: &netconftest.Timers{}, path: filepath.Join(dir, "config.json"), cfg: loaded.Config,
		time: &fakeTime{st: clock.Status{State: ledger.ClockRTC, HasRTC: hasRTC}}}
	if change != nil {
		change(r.cfg)
		if err := config.Save(r.path, r.cfg); err != nil {
			t.Fatal(err)
		}
	}
	m := netconf.New(netconf.Options{System: r.sys, Dir: filepath.Join(dir, "network"), AfterFunc: r.timers.AfterFunc})
	r.g, err = gateway.Open(context.Background(), r.cfg, gateway.Options{ConfigPath: r.path, Network: m, TimeSync: r.time})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, r.g)
	return r
}

func (r *netRig) saved(t *testing.T) *config.Config {
	t.Helper()
	c, _, err := config.LoadUnfinished(r.path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func entriesOf(t *testing.T, g *gateway.Gateway, kind ledger.Kind) []ledger.Entry {
	t.Helper()
	es, err := ledger.Read(g.Config().LedgerDir, ledger.Filter{Kinds: []ledger.Kind{kind}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

var msgWhy = msg.T("NTP サーバーから応答がありません", "no NTP server answered within 3 minutes")

var staticNet = config.Network{Mode: config.NetworkStatic, Interface: "eth0", Address: "192.168.10.20/24", Gateway: "192.168.10.1",
	NTPServers: []string{"192.168.10.1"}}

func TestNetworkChangeConfirmedFromTheNewAddress(t *testing.T) {
	r := newNetRig(t, true, nil)
	res, err := r.g.ChangeNetwork(context.Background(), "vendor", "192.168.10.57", staticNet, "Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if res.Pending == nil || res.Saved {
		t.Fatalf("result = %+v; a new address waits for its confirmation", res)
	}
	if got := r.saved(t).Network; got.Mode != config.NetworkDHCP {
		t.Fatalf("saved before the confirmation: %+v", got)
	}
	ch := entriesOf(t, r.g, ledger.KindNetworkChange)
	if len(ch) != 1 || ch[0].Actor != "vendor" || ch[0].Clock != ledger.ClockRTC {
		t.Fatalf("change entries %+v; want one by vendor, stamped with the clock's state", ch)
	}
	if d, err := ledger.Decode[ledger.NetworkData](ch[0]); err != nil || d.Mode != "static" || d.Address != staticNet.Address || d.Previous != "192.168.10.57" {
		t.Fatalf("change data %+v, %v", d, err)
	}
	if _, err := r.g.ChangeNetwork(context.Background(), "vendor", "", config.DefaultNetwork(), "Asia/Tokyo"); !errors.Is(err, netconf.ErrPending) {
		t.Fatalf("a second change while one is pending: %v", err)
	}
	r.timers.Fire(netconf.DefaultApplyDelay)
	if v := r.g.NetworkView(); v.Pending == nil || !v.Pending.Applied || !v.Managed || len(v.Addresses) != 1 {
		t.Fatalf("view = %+v", v)
	}
	if err := r.g.ConfirmNetwork(context.Background(), "vendor", netip.MustParseAddr("192.168.10.57")); err == nil {
		t.Fatal("confirmed from the old address")
	}
	if err := r.g.ConfirmNetwork(context.Background(), "vendor", netip.MustParseAddr("192.168.10.20")); err != nil {
		t.Fatal(err)
	}
	if got := r.saved(t).Network; got.Mode != config.NetworkStatic || got.Address != staticNet.Address || r.g.Config().Network.Address != staticNet.Address {
		t.Fatalf("saved %+v after the confirmation", got)
	}
	steps := entriesOf(t, r.g, ledger.KindCommission)
	if len(steps) != 1 {
		t.Fatalf("commission entries %+v", steps)
	}
	if d, _ := ledger.Decode[ledger.CommissionData](steps[0]); d.Step != gateway.StepNetwork || !d.OK || !strings.Contains(d.Detail.EN, "192.168.10.20") {
		t.Fatalf("commission data %+v", d)
	}
	if r.time.kicks() != 1 {
		t.Error("the new time server was not asked at once")
	}
	if r.timers.Fire(netconf.DefaultApplyDelay+netconf.DefaultRollback) != 0 || len(entriesOf(t, r.g, ledger.KindNetworkRevert)) != 0 {
		t.Fatal("a confirmed change rolled back")
	}
}

// Undoing the last configuration change never takes the confirmed
// network back: that would move the page's address without the rollback.
func TestUndoKeepsTheConfirmedNetwork(t *testing.T) {
	r := newNetRig(t, true, nil)
	if _, err := r.g.ChangeNetwork(context.Background(), "vendor", "192.168.10.57", staticNet, "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
	r.timers.Fire(netconf.DefaultApplyDelay)
	if err := r.g.ConfirmNetwork(context.Background(), "vendor", netip.MustParseAddr("192.168.10.20")); err != nil {
		t.Fatal(err)
	}
	if err := r.g.UndoConfig(context.Background(), "vendor"); err != nil {
		t.Fatal(err)
	}
	if got := r.saved(t).Network; got.Mode != config.NetworkStatic || r.g.Config().Network.Address != staticNet.Address {
		t.Fatalf("after an undo the saved network is %+v, running %+v", got, r.g.Config().Network)
	}
}

func TestNetworkChangeNotConfirmedComesBack(t *testing.T) {
	r := newNetRig(t, true, nil)
	if _, err := r.g.ChangeNetwork(context.Background(), "vendor", "192.168.10.57", staticNet, "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
	r.timers.Fire(netconf.DefaultApplyDelay)
	r.timers.Fire(netconf.DefaultApplyDelay + netconf.DefaultRollback)
	rev := entriesOf(t, r.g, ledger.KindNetworkRevert)
	if len(rev) != 1 || !strings.Contains(rev[0].Message.EN, "not confirmed from the new address within 2 minutes") {
		t.Fatalf("revert entries %+v", rev)
	}
	if d, _ := ledger.Decode[ledger.NetworkData](rev[0]); d.Mode != "dhcp" || d.Previous != staticNet.Address {
		t.Fatalf("revert data %+v; want the DHCP settings now in force", d)
	}
	applied := r.sys.Applied()
	if last := applied[len(applied)-1]; last.Network.Mode != config.NetworkDHCP || !last.Flush {
		t.Fatalf("last applied %+v", last)
	}
	if got := r.saved(t).Network; got.Mode != config.NetworkDHCP {
		t.Fatalf("saved %+v", got)
	}
	if len(entriesOf(t, r.g, ledger.KindCommission)) != 0 {
		t.Fatal("an unconfirmed change completed the step")
	}
	// The gateway restarted in the middle of a change: recorded too.
	r.g.NetworkInterrupted(&netconf.Pending{From: config.DefaultNetwork(), To: staticNet, Actor: "vendor"})
	if rev := entriesOf(t, r.g, ledger.KindNetworkRevert); len(rev) != 2 || !strings.Contains(rev[1].Message.EN, "restarted before") {
		t.Fatalf("revert entries %+v", rev)
	}
}

// Time servers, host name and time zone change nothing of how the page is
// reached: saved and applied at once, and the step is done.
func TestNetworkSavedAtOnce(t *testing.T) {
	r := newNetRig(t, true, nil)
	n := config.DefaultNetwork()
	n.Hostname, n.NTPServers = "gw-3f", []string{"192.168.10.1", "ntp.hospital.local"}
	res, err := r.g.ChangeNetwork(context.Background(), "vendor", "192.168.10.57", n, "Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Saved || res.Pending != nil {
		t.Fatalf("result = %+v", res)
	}
	if got := r.saved(t).Network; got.Hostname != "gw-3f" || len(got.NTPServers) != 2 {
		t.Fatalf("saved %+v", got)
	}
	if a := r.sys.Applied(); len(a) != 1 || a[0].Network.Hostname != "gw-3f" || a[0].Flush {
		t.Fatalf("applied %+v", a)
	}
	if r.time.kicks() != 1 || len(entriesOf(t, r.g, ledger.KindCommission)) != 1 || len(entriesOf(t, r.g, ledger.KindConfigChange)) != 1 {
		t.Fatal("not saved as a completed step")
	}
	if _, err := r.g.ChangeNetwork(context.Background(), "vendor", "", n, "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("a bad time zone: %v", err)
	}
}

// A board without a hardware clock (Raspberry Pi 4) needs a time server.
func TestNetworkNeedsATimeServerWithoutRTC(t *testing.T) {
	r := newNetRig(t, false, nil)
	_, err := r.g.ChangeNetwork(context.Background(), "vendor", "", config.DefaultNetwork(), "Asia/Tokyo")
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.For("network.ntp_servers")) != 1 || !strings.Contains(err.Error(), "RTC add-on") {
		t.Fatalf("no NTP server on a board without RTC: %v", err)
	}
	n := config.DefaultNetwork()
	n.NTPServers = []string{"192.168.10.1"}
	if _, err := r.g.ChangeNetwork(context.Background(), "vendor", "", n, "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
}

// Each change of the clock's state is in the ledger, and "time not
// synchronised" is alerted until NTP sets the clock.
func TestClockChangesAreRecordedAndAlerted(t *testing.T) {
	sink, url := newAlertSink(t)
	r := newNetRig(t, true, func(c *config.Config) { c.Alerts.Webhook = &alert.WebhookSpec{URL: url} })
	r.g.ClockChanged(clock.Change{From: ledger.ClockRTC, To: ledger.ClockRTC, First: true, Why: msgWhy})
	a := sink.wait(t, alert.KindClockUnsynced, r.cfg.GatewayID, false, 1)[0]
	if !strings.Contains(a.Title.EN, "Time not synchronised") || !strings.Contains(a.Body.EN, msgWhy.EN) {
		t.Fatalf("alert = %+v", a)
	}
	r.time.mu.Lock()
	r.time.st.State = ledger.ClockNTP
	r.time.mu.Unlock()
	r.g.ClockChanged(clock.Change{From: ledger.ClockRTC, To: ledger.ClockNTP, Source: "192.168.10.1", Offset: 1500 * time.Millisecond, Why: msgWhy})
	sink.wait(t, alert.KindClockUnsynced, r.cfg.GatewayID, true, 1)
	es := entriesOf(t, r.g, ledger.KindClock)
	if len(es) != 2 || es[0].Clock != ledger.ClockRTC || es[1].Clock != ledger.ClockNTP {
		t.Fatalf("clock entries %+v", es)
	}
	if d, _ := ledger.Decode[ledger.ClockData](es[1]); d.State != ledger.ClockNTP || d.Source != "192.168.10.1" || d.OffsetMS != 1500 {
		t.Fatalf("clock data %+v", d)
	}
	if st, ok := r.g.ClockStatus(); !ok || !st.Synced() {
		t.Fatalf("clock status %+v, %v", st, ok)
	}
}
