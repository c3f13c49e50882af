package netprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/register"
)

func TestCheckTargetRefusesNonDeviceAddresses(t *testing.T) {
	for _, c := range []struct {
		addr string
		want string // a word of the English refusal; "" = allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.10.0.5", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"255.255.255.255", "broadcast"},
		{"224.0.0.251", "multicast"},
		{"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "this network"},
		{"240.0.0.1", "future use"},
		{"192.0.0.8", "IETF"},
		{"198.18.0.1", "benchmarking"},
		{"100::1", "discard"},
		{"192.168.1.1", ""},
		{"10.0.0.1", ""},
		{"100.64.0.1", ""},
		{"203.0.113.7", ""},
		{"8.8.8.8", ""},
		{"2001:db8::1", ""},
		{"fd00::1", ""},
	} {
		err := CheckTarget(netip.MustParseAddr(c.addr))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s refused: %v", c.addr, err)
		case c.want != "" && err == nil:
			t.Errorf("%s allowed, want refused as %s", c.addr, c.want)
		case c.want != "" && !strings.Contains(msg.In(err, msg.EN), c.want):
			t.Errorf("%s: %q does not say %q", c.addr, msg.In(err, msg.EN), c.want)
		case c.want != "" && !strings.Contains(msg.In(err, msg.JA), "調査しません"):
			t.Errorf("%s: Japanese %q does not say it is not scanned", c.addr, msg.In(err, msg.JA))
		}
	}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"203.0.113.7": true, "8.8.8.8": true, "2001:db8::1": true, "2400:4050::1": true, "::ffff:8.8.8.8": true,
		"192.168.1.1": false, "10.1.2.3": false, "172.16.0.1": false, "100.64.1.1": false, "fd12::1": false,
		"127.0.0.1": false, "169.254.0.1": false, "240.0.0.1": false, "198.18.0.1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func point(id, lan, global string) register.Point {
	return register.Point{ID: id, Purpose: "x", Scan: true, LineType: register.LineInternet, LANAddress: lan, GlobalIP: global}
}

func TestCheckTargetsNeedsConfirmationOfTheSameAddress(t *testing.T) {
	reg := register.Register{Points: []register.Point{
		point("CAF00001", "192.168.1.1", "203.0.113.7"),
		point("CAF00002", "192.168.2.1", ""),
		{ID: "CAF00003", Purpose: "x", LineType: register.LineInternet, GlobalIP: "198.51.100.9"}, // not scanned
	}}
	err := CheckTargets(reg, config.Scan{})
	if err == nil || !strings.Contains(msg.In(err, msg.EN), "CAF00001: the global IP 203.0.113.7 has not been confirmed") {
		t.Fatalf("unconfirmed global IP: %v", err)
	}
	if strings.Contains(err.Error(), "CAF00002") || strings.Contains(err.Error(), "CAF00003") {
		t.Errorf("private-only or unscanned points refused: %v", err)
	}
	ok := config.Scan{Confirmed: []config.ScanConfirmation{{Point: "CAF00001", Addr: "203.0.113.7", By: "vendor"}}}
	if err := CheckTargets(reg, ok); err != nil {
		t.Fatalf("confirmed: %v", err)
	}
	// The line's address changed: the old confirmation no longer counts.
	reg.Points[0].GlobalIP = "203.0.113.8"
	err = CheckTargets(reg, ok)
	if err == nil || !strings.Contains(msg.In(err, msg.EN), "changed from the confirmed 203.0.113.7 to 203.0.113.8") {
		t.Fatalf("changed global IP: %v", err)
	}
	// A confirmation belongs to its point, not to any point with that address.
	reg.Points[0].GlobalIP = "203.0.113.7"
	moved := config.Scan{Confirmed: []config.ScanConfirmation{{Point: "CAF00002", Addr: "203.0.113.7"}}}
	if CheckTargets(reg, moved) == nil {
		t.Fatal("a confirmation for another point let the address through")
	}
}

func TestCheckTargetsListsEveryRefusal(t *testing.T) {
	reg := register.Register{Points: []register.Point{
		point("CAF00001", "127.0.0.1", ""),
		point("CAF00002", "169.254.3.3", "203.0.113.7"),
		point("CAF00003", "192.168.1.1", "240.1.1.1"),
	}}
	en := msg.In(CheckTargets(reg, config.Scan{}), msg.EN)
	for _, want := range []string{"CAF00001: 127.0.0.1 is a loopback", "CAF00002: 169.254.3.3 is a link-local",
		"CAF00002: the global IP 203.0.113.7 has not been confirmed", "CAF00003: 240.1.1.1 is an address reserved"} {
		if !strings.Contains(en, want) {
			t.Errorf("refusal lacks %q:\n%s", want, en)
		}
	}
}

func TestCapPublicRate(t *testing.T) {
	public := register.Register{Points: []register.Point{point("CAF00001", "192.168.1.1", "203.0.113.7")}}
	private := register.Register{Points: []register.Point{point("CAF00001", "192.168.1.1", "")}}
	for _, c := range []struct {
		reg        register.Register
		rate, want float64
		s          config.Scan
	}{
		{public, 0, DefaultPublicRate, config.Scan{}},
		{public, 20000, DefaultPublicRate, config.Scan{}},
		{public, 200, 200, config.Scan{}},
		{public, 20000, 5000, config.Scan{PublicRate: 5000}},
		{private, 0, 0, config.Scan{}},
		{private, 20000, 20000, config.Scan{}},
	} {
		o := Options{Rate: c.rate}
		capPublicRate(&o, c.reg, c.s)
		if o.Rate != c.want {
			t.Errorf("rate %v, %+v: got %v, want %v", c.rate, c.s, o.Rate, c.want)
		}
	}
}

// Run touches no refused address and scans the rest: the refused one is
// a 注意 "not scanned" with its reason, and the coverage says so. The
// refused address is loopback (without the lab setting), so a scan that
// went ahead would find sshd-less 127.0.0.1 closed, not "not scanned",
// and no test packet can leave the machine; public addresses are refused
// by the same function (TestCheckTargets…).
func TestRunSkipsRefusedTargets(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // the scan is over by then
	port := ln.Addr().(*net.TCPAddr).Port
	reg := register.Register{Points: []register.Point{point("CAF00001", "127.0.0.1", ""), point("CAF00002", "127.0.0.2", "")}}
	data, err := json.Marshal(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "register.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	// The lab setting lets 127.0.0.2 through; 127.0.0.1 is refused by a
	// Refuse that wraps the real one and also refuses it.
	s := config.Scan{TCPPorts: fmt.Sprint(port), LoopbackLab: true}
	r, name, err := run(context.Background(), nil, filepath.Join(dir, "config.json"), s, func(o *Options) {
		real := o.Refuse
		o.Refuse = func(id string, a netip.Addr) error {
			if a == netip.MustParseAddr("127.0.0.1") {
				return refusal(config.Scan{}, id, a)
			}
			return real(id, a)
		}
	})
	if err != nil || name == "" {
		t.Fatalf("Run = %q, %v; want a stored report", name, err)
	}
	refused, scanned := r.Targets[0], r.Targets[1]
	if h := refused.Hosts[0]; !strings.Contains(h.NotScanned.EN, "127.0.0.1 is a loopback") || len(h.Ports) != 0 {
		t.Errorf("refused host = %+v", h)
	}
	if !slices.ContainsFunc(refused.Findings, func(f Finding) bool { return f.Rule == RuleNotScanned && f.Caution }) {
		t.Errorf("no 注意 for the refused address: %+v", refused.Findings)
	}
	if !slices.ContainsFunc(refused.Findings, func(f Finding) bool {
		return f.Rule == RuleCoverage && strings.Contains(f.EN, "could not be checked: 127.0.0.1 is a loopback")
	}) {
		t.Errorf("the coverage does not name the refused address: %+v", refused.Findings)
	}
	if h := scanned.Hosts[0]; !h.NotScanned.IsZero() || len(h.Ports) != 1 || h.Ports[0].Port != port {
		t.Errorf("the allowed address was not scanned: %+v", h)
	}
}

// CheckAddresses refuses, at entry, what no device can have, naming the
// field; a public address waits for its confirmation, not refused here.
func TestCheckAddressesAtEntry(t *testing.T) {
	reg := register.Register{Points: []register.Point{point("CAF00001", "169.254.3.3", "203.0.113.7"), point("CAF00002", "127.0.0.1", "240.1.2.3")}}
	err := CheckAddresses(reg, config.Scan{})
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("CheckAddresses = %v, want a ValidationError", err)
	}
	var got []string
	for _, f := range ve.Fields {
		got = append(got, f.Field+" "+f.Text.EN)
	}
	want := []string{
		"points[0].lan_address connection point CAF00001: 169.254.3.3 is a link-local address, never a line's device: it is not scanned; check the register",
		"points[1].lan_address connection point CAF00002: 127.0.0.1 is a loopback address (the gateway itself), never a line's device: it is not scanned; check the register",
		"points[1].global_ip connection point CAF00002: 240.1.2.3 is an address reserved for future use, never a line's device: it is not scanned; check the register",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := CheckAddresses(register.Register{Points: []register.Point{point("CAF00001", "127.0.0.1", "")}}, config.Scan{LoopbackLab: true}); err != nil {
		t.Errorf("loopback lab: %v", err)
	}
}

func TestLoopbackLabAllowsOnlyLoopback(t *testing.T) {
	reg := register.Register{Points: []register.Point{point("CAF00001", "127.77.9.1", ""), point("CAF00002", "169.254.1.1", "")}}
	err := CheckTargets(reg, config.Scan{LoopbackLab: true})
	if en := msg.In(err, msg.EN); strings.Contains(en, "127.77.9.1") || !strings.Contains(en, "169.254.1.1 is a link-local") {
		t.Fatalf("loopback lab: %v", err)
	}
}
