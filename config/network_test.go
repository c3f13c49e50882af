package config

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// networkErrors validates c with n as its network and returns the fields
// the validation names under "network.".
func networkErrors(t *testing.T, n Network) map[string]string {
	t.Helper()
	c := validConfig()
	c.Network = n
	err := c.Validate()
	out := map[string]string{}
	if err == nil {
		return out
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate: %v is not a ValidationError", err)
	}
	for _, f := range ve.Fields {
		if !strings.HasPrefix(f.Field, "network.") {
			t.Fatalf("unexpected error outside the network: %v", f)
		}
		out[f.Field] = f.Text.EN
	}
	return out
}

func TestNetworkDefaultIsDHCPWithoutTimeServers(t *testing.T) {
	n := Default().Network
	if n.Mode != NetworkDHCP || n.Iface() != "eth0" || len(n.NTPServers) != 0 {
		t.Fatalf("default network = %+v; want DHCP on eth0 and no NTP server preset", n)
	}
	if errs := networkErrors(t, n); len(errs) != 0 {
		t.Fatalf("the default network does not validate: %v", errs)
	}
}

func TestNetworkStaticValid(t *testing.T) {
	n := Network{Mode: NetworkStatic, Interface: "eth0", Address: "192.168.10.20/24", Gateway: "192.168.10.1",
		DNS: []string{"192.168.10.1"}, Hostname: "danzen-gw1", NTPServers: []string{"192.168.10.1", "ntp.hospital.local", "10.0.0.5:1123"}}
	if errs := networkErrors(t, n); len(errs) != 0 {
		t.Fatalf("a valid static network was refused: %v", errs)
	}
	// Gateway and DNS are optional; NTP by address needs no DNS.
	n = Network{Mode: NetworkStatic, Address: "10.1.2.3/16", NTPServers: []string{"10.1.0.1"}}
	if errs := networkErrors(t, n); len(errs) != 0 {
		t.Fatalf("a static network without gateway and DNS was refused: %v", errs)
	}
}

func TestNetworkRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     Network
		field string
		says  string
	}{
		{"bad mode", Network{Mode: "pppoe"}, "network.mode", "dhcp"},
		{"empty mode", Network{}, "network.mode", "static"},
		{"static without address", Network{Mode: NetworkStatic}, "network.address", "give the static address"},
		{"no prefix", Network{Mode: NetworkStatic, Address: "192.168.10.20"}, "network.address", "prefix length"},
		{"IPv6", Network{Mode: NetworkStatic, Address: "fd00::2/64"}, "network.address", "IPv4"},
		{"prefix too long", Network{Mode: NetworkStatic, Address: "192.168.10.20/32"}, "network.address", "/8 to /30"},
		{"loopback", Network{Mode: NetworkStatic, Address: "127.0.0.5/8"}, "network.address", "cannot be"},
		{"network address", Network{Mode: NetworkStatic, Address: "192.168.10.0/24"}, "network.address", "network or broadcast"},
		{"broadcast", Network{Mode: NetworkStatic, Address: "192.168.10.255/24"}, "network.address", "network or broadcast"},
		{"gateway outside", Network{Mode: NetworkStatic, Address: "192.168.10.20/24", Gateway: "192.168.11.1"}, "network.gateway", "outside the subnet 192.168.10.0/24"},
		{"gateway is self", Network{Mode: NetworkStatic, Address: "192.168.10.20/24", Gateway: "192.168.10.20"}, "network.gateway", "own address"},
		{"gateway not an address", Network{Mode: NetworkStatic, Address: "192.168.10.20/24", Gateway: "router"}, "network.gateway", "not an IPv4"},
		{"dns name", Network{Mode: NetworkDHCP, DNS: []string{"dns.local"}}, "network.dns[0]", "IPv4"},
		{"too many dns", Network{Mode: NetworkDHCP, DNS: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}}, "network.dns", "at most 3"},
		{"hostname", Network{Mode: NetworkDHCP, Hostname: "danzen_gw"}, "network.hostname", "letters, digits and '-'"},
		{"interface", Network{Mode: NetworkDHCP, Interface: "eth0/1"}, "network.interface", "interface name"},
		{"ntp garbage", Network{Mode: NetworkDHCP, NTPServers: []string{"ntp server"}}, "network.ntp_servers[0]", "not an NTP server"},
		{"ntp port", Network{Mode: NetworkDHCP, NTPServers: []string{"10.0.0.1:99999"}}, "network.ntp_servers[0]", "port"},
		{"ntp twice", Network{Mode: NetworkDHCP, NTPServers: []string{"10.0.0.1", "10.0.0.1"}}, "network.ntp_servers[1]", "twice"},
		{"ntp name without dns", Network{Mode: NetworkStatic, Address: "10.0.0.9/24", NTPServers: []string{"ntp.hospital.local"}}, "network.ntp_servers[0]", "needs a DNS server"},
		{"too many ntp", Network{Mode: NetworkDHCP, NTPServers: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}}, "network.ntp_servers", "at most 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := networkErrors(t, tc.n)
			got, ok := errs[tc.field]
			if !ok {
				t.Fatalf("no error for %s; got %v", tc.field, errs)
			}
			if !strings.Contains(got, tc.says) {
				t.Errorf("%s: %q does not say %q", tc.field, got, tc.says)
			}
		})
	}
}

// A file written before the network section existed loads as DHCP; one
// with it keeps every field.
func TestNetworkJSON(t *testing.T) {
	b, err := json.Marshal(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "network")
	old, _ := json.Marshal(m)
	c, err := Parse(old)
	if err != nil {
		t.Fatalf("a file without a network section: %v", err)
	}
	if c.Network.Mode != NetworkDHCP || c.Network.Iface() != "eth0" {
		t.Fatalf("old file's network = %+v, want DHCP on eth0", c.Network)
	}
	m["network"] = json.RawMessage(`{"mode":"static","address":"192.168.10.20/24","gateway":"192.168.10.1","dns":["192.168.10.1"],"hostname":"gw1","ntp_servers":["192.168.10.1"]}`)
	withNet, _ := json.Marshal(m)
	if c, err = Parse(withNet); err != nil {
		t.Fatal(err)
	}
	want := Network{Mode: NetworkStatic, Interface: "eth0", Address: "192.168.10.20/24", Gateway: "192.168.10.1",
		DNS: []string{"192.168.10.1"}, Hostname: "gw1", NTPServers: []string{"192.168.10.1"}}
	if c.Network.Mode != want.Mode || c.Network.Iface() != want.Iface() || c.Network.Address != want.Address || c.Network.Gateway != want.Gateway ||
		!slices.Equal(c.Network.DNS, want.DNS) || c.Network.Hostname != want.Hostname || !slices.Equal(c.Network.NTPServers, want.NTPServers) {
		t.Fatalf("network = %+v, want %+v", c.Network, want)
	}
	m["network"] = json.RawMessage(`{"mode":"dhcp","ntp":["x"]}`)
	typo, _ := json.Marshal(m)
	if _, err := Parse(typo); err == nil || !strings.Contains(err.Error(), "ntp") {
		t.Fatalf("a misspelt network key was accepted: %v", err)
	}
}

func TestNTPHost(t *testing.T) {
	for in, want := range map[string]string{
		"192.168.10.1": "192.168.10.1", "192.168.10.1:123": "192.168.10.1", "ntp.hospital.local": "ntp.hospital.local",
		"[fd00::1]:123": "fd00::1", "fd00::1": "fd00::1", "ntp1": "ntp1",
	} {
		if got, err := NTPHost(in); err != nil || got != want {
			t.Errorf("NTPHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ntp server", "-ntp", "10.0.0.1:0", "http://ntp"} {
		if _, err := NTPHost(bad); err == nil {
			t.Errorf("NTPHost(%q) accepted", bad)
		}
	}
}
