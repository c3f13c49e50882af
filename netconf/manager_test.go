package netconf_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/netconf/netconftest"
)

var (
	dhcp   = config.DefaultNetwork()
	static = config.Network{Mode: config.NetworkStatic, Interface: "eth0", Address: "192.168.10.20/24", Gateway: "192.168.10.1"}
	t0     = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
)

type fixture struct {
	sys    *netconftest.System
	timers *netconftest.Timers
	m      *netconf.Manager
	dir    string
	ended  chan netconf.Outcome
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{sys: &netconftest.System{}, timers: &netconftest.Timers{}, dir: t.TempDir(), ended: make(chan netconf.Outcome, 1)}
	f.m = f.manager()
	return f
}

func (f *fixture) manager() *netconf.Manager {
	return netconf.New(netconf.Options{System: f.sys, Dir: f.dir, AfterFunc: f.timers.AfterFunc, Now: func() time.Time { return t0 }})
}

func (f *fixture) change(t *testing.T) netconf.Pending {
	t.Helper()
	p, err := f.m.Change("vendor", "192.168.10.57", dhcp, static, func(o netconf.Outcome) { f.ended <- o })
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(netconf.DefaultApplyDelay + netconf.DefaultRollback); !p.Deadline.Equal(want) || p.Applied || p.Actor != "vendor" || p.Previous != "192.168.10.57" {
		t.Fatalf("pending = %+v; want the deadline %s, not applied yet", p, want)
	}
	return p
}

const rollbackAt = netconf.DefaultApplyDelay + netconf.DefaultRollback

func TestConfirmedFromTheNewAddress(t *testing.T) {
	f := newFixture(t)
	f.change(t)
	if len(f.sys.Applied()) != 0 {
		t.Fatal("applied before the page's answer could leave")
	}
	if _, err := f.m.Confirm(netip.MustParseAddr("192.168.10.20")); err == nil || !strings.Contains(err.Error(), "still being applied") {
		t.Fatalf("confirmed before the change applied: %v", err)
	}
	if f.timers.Fire(netconf.DefaultApplyDelay) != 1 {
		t.Fatal("no apply timer")
	}
	if got := f.sys.Applied(); len(got) != 1 || got[0].Network.Address != static.Address || !got[0].Flush {
		t.Fatalf("applied %+v; want the new settings, the old ones removed first", got)
	}
	if p, ok := f.m.Pending(); !ok || !p.Applied {
		t.Fatalf("pending = %+v, %v", p, ok)
	}
	// Reached at the old address: not a confirmation.
	if _, err := f.m.Confirm(netip.MustParseAddr("192.168.10.57")); err == nil || !strings.Contains(err.Error(), "192.168.10.57") {
		t.Fatalf("confirmed from the old address: %v", err)
	}
	p, err := f.m.Confirm(netip.MustParseAddr("::ffff:192.168.10.20"))
	if err != nil {
		t.Fatal(err)
	}
	if p.To.Address != static.Address || p.From.Mode != config.NetworkDHCP {
		t.Fatalf("confirmed %+v", p)
	}
	if _, ok := f.m.Pending(); ok || f.timers.Active() != 0 {
		t.Fatalf("the change is still pending (%d timers)", f.timers.Active())
	}
	if f.timers.Fire(rollbackAt) != 0 || len(f.sys.Applied()) != 1 {
		t.Fatal("a confirmed change was rolled back")
	}
	if _, err := os.Stat(filepath.Join(f.dir, "pending.json")); !os.IsNotExist(err) {
		t.Fatalf("the pending file stayed: %v", err)
	}
	if _, err := f.m.Confirm(netip.MustParseAddr("192.168.10.20")); !errors.Is(err, netconf.ErrNothingPending) {
		t.Fatalf("second confirmation: %v", err)
	}
}

func TestNotConfirmedRollsBack(t *testing.T) {
	f := newFixture(t)
	f.change(t)
	if _, err := f.m.Change("other", "", static, dhcp, func(netconf.Outcome) {}); !errors.Is(err, netconf.ErrPending) {
		t.Fatalf("a second change while one is pending: %v", err)
	}
	f.timers.Fire(netconf.DefaultApplyDelay)
	if f.timers.Fire(rollbackAt) != 1 {
		t.Fatal("no rollback timer")
	}
	o := <-f.ended
	if o.Err != nil || o.RevertErr != nil || o.Pending.To.Address != static.Address {
		t.Fatalf("outcome = %+v", o)
	}
	got := f.sys.Applied()
	if len(got) != 2 || got[1].Network.Mode != config.NetworkDHCP || !got[1].Flush {
		t.Fatalf("applied %+v; want the DHCP settings back, the static ones removed", got)
	}
	if _, ok := f.m.Pending(); ok {
		t.Fatal("still pending after the rollback")
	}
	if _, err := f.m.Confirm(netip.MustParseAddr("192.168.10.20")); !errors.Is(err, netconf.ErrNothingPending) {
		t.Fatalf("confirmed after the rollback: %v", err)
	}
}

func TestApplyFailureRollsBackAtOnce(t *testing.T) {
	f := newFixture(t)
	f.change(t)
	f.sys.Fail(errors.New("no carrier"))
	f.timers.Fire(netconf.DefaultApplyDelay)
	o := <-f.ended
	if o.Err == nil || !strings.Contains(o.Err.Error(), "no carrier") || o.RevertErr == nil {
		t.Fatalf("outcome = %+v; want the apply's error and the revert's", o)
	}
	if f.timers.Active() != 0 {
		t.Fatal("the rollback timer still runs")
	}
}

// A restart within the two minutes ends on the saved settings, the old
// ones, and says which change did not survive.
func TestRestartDuringAChangeEndsOnTheSavedSettings(t *testing.T) {
	f := newFixture(t)
	f.change(t)
	f.timers.Fire(netconf.DefaultApplyDelay)
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	m := f.manager()
	left, err := m.Boot(context.Background(), dhcp)
	if err != nil {
		t.Fatal(err)
	}
	if left == nil || left.To.Address != static.Address || !left.Applied {
		t.Fatalf("left = %+v; want the unconfirmed static change", left)
	}
	got := f.sys.Applied()
	if last := got[len(got)-1]; last.Network.Mode != config.NetworkDHCP || !last.Flush {
		t.Fatalf("boot applied %+v; want DHCP with the static address removed", last)
	}
	if left, err := m.Boot(context.Background(), dhcp); err != nil || left != nil {
		t.Fatalf("a second boot: %+v, %v", left, err)
	}
	if got := f.sys.Applied(); got[len(got)-1].Flush {
		t.Fatal("an ordinary boot removed the addresses")
	}
}

func TestUnmanagedAppliesNothing(t *testing.T) {
	m := netconf.New(netconf.Options{Dir: t.TempDir()})
	if m.Managed() {
		t.Fatal("a manager without a System says it manages the network")
	}
	if left, err := m.Boot(context.Background(), static); left != nil || err != nil {
		t.Fatalf("boot: %+v, %v", left, err)
	}
	if _, err := m.Change("x", "", dhcp, static, func(netconf.Outcome) {}); err == nil {
		t.Fatal("an unmanaged change was accepted")
	}
	if err := m.Update(context.Background(), dhcp, dhcp); err != nil {
		t.Fatal(err)
	}
}

func TestHostnameAppliesAtOnce(t *testing.T) {
	f := newFixture(t)
	named := dhcp
	named.Hostname = "gw-3f"
	if netconf.NeedsConfirmation(dhcp, named) {
		t.Fatal("a new host name needs a confirmation")
	}
	if err := f.m.Update(context.Background(), dhcp, named); err != nil {
		t.Fatal(err)
	}
	if got := f.sys.Applied(); len(got) != 1 || got[0].Network.Hostname != "gw-3f" || got[0].Flush {
		t.Fatalf("applied %+v", got)
	}
	timed := named
	timed.NTPServers = []string{"10.0.0.1"}
	if err := f.m.Update(context.Background(), named, timed); err != nil || len(f.sys.Applied()) != 1 {
		t.Fatalf("a time server change applied the network: %v", err)
	}
}

func TestNeedsConfirmation(t *testing.T) {
	moved := static
	moved.Address = "192.168.10.21/24"
	gw := static
	gw.Gateway = "192.168.10.254"
	dns := static
	dns.DNS = []string{"192.168.10.1"}
	iface := dhcp
	iface.Interface = "eth1"
	for _, tc := range []struct {
		a, b config.Network
		want bool
	}{
		{dhcp, static, true}, {static, moved, true}, {static, gw, true}, {static, dns, true}, {dhcp, iface, true},
		{dhcp, config.Network{Mode: config.NetworkDHCP}, false}, // eth0 is the default
		{static, static, false},
	} {
		if got := netconf.NeedsConfirmation(tc.a, tc.b); got != tc.want {
			t.Errorf("NeedsConfirmation(%+v, %+v) = %v", tc.a, tc.b, got)
		}
	}
}
