package netprobe

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
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

// Run refuses before any packet leaves: the register names only addresses
// no scan may touch, so a scan that went ahead would fail differently.
func TestRunRefusesUnsafeTargets(t *testing.T) {
	dir := t.TempDir()
	reg := register.Register{Points: []register.Point{point("CAF00001", "127.0.0.1", "203.0.113.7")}}
	data, err := json.Marshal(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "register.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, name, err := Run(context.Background(), nil, filepath.Join(dir, "config.json"), config.Scan{})
	if r != nil || name != "" || err == nil {
		t.Fatalf("Run = %v, %q, %v; want a refusal", r, name, err)
	}
	en := msg.In(err, msg.EN)
	for _, want := range []string{"nothing was scanned", "127.0.0.1 is a loopback", "203.0.113.7 has not been confirmed"} {
		if !strings.Contains(en, want) {
			t.Errorf("refusal lacks %q:\n%s", want, en)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "scans")); err == nil {
		t.Error("a refused scan stored a report")
	}
}

func TestLoopbackLabAllowsOnlyLoopback(t *testing.T) {
	reg := register.Register{Points: []register.Point{point("CAF00001", "127.77.9.1", ""), point("CAF00002", "169.254.1.1", "")}}
	err := CheckTargets(reg, config.Scan{LoopbackLab: true})
	if en := msg.In(err, msg.EN); strings.Contains(en, "127.77.9.1") || !strings.Contains(en, "169.254.1.1 is a link-local") {
		t.Fatalf("loopback lab: %v", err)
	}
}
