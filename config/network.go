package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Network modes.
const (
	// NetworkDHCP takes the address, gateway and DNS servers from the
	// hospital's DHCP server (the default).
	NetworkDHCP = "dhcp"
	// NetworkStatic uses the address, gateway and DNS servers given here.
	NetworkStatic = "static"
)

// DefaultInterface is the wired interface a gokrazy kernel names first.
const DefaultInterface = "eth0"

// MaxDNS is how many DNS servers resolv.conf uses; more are ignored by
// the resolver, so more are refused here.
const MaxDNS = 3

// MaxNTPServers bounds the list: each is asked in turn every round.
const MaxNTPServers = 4

// Network is the gateway's own address on the hospital LAN, its name and
// the time servers it asks. The page's network step (/commission/network)
// edits it; a change of address applies with a rollback timer.
type Network struct {
	// Mode is "dhcp" (the default) or "static".
	Mode string `json:"mode"`
	// Interface is the network interface the settings apply to
	// (default "eth0").
	Interface string `json:"interface,omitempty"`
	// Address is the static IPv4 address with its prefix length, e.g.
	// "192.168.10.20/24"; used in static mode only.
	Address string `json:"address,omitempty"`
	// Gateway is the default router's IPv4 address (static mode;
	// optional: without it only the local subnet is reached).
	Gateway string `json:"gateway,omitempty"`
	// DNS are the DNS servers' IPv4 addresses (static mode; optional,
	// at most 3). Needed only when a host is given by name.
	DNS []string `json:"dns,omitempty"`
	// Hostname is the gateway's name on the LAN (sent to the DHCP
	// server); empty keeps the image's ("danzen").
	Hostname string `json:"hostname,omitempty"`
	// NTPServers are the hospital's time servers (name or IP address,
	// optionally ":port"); none is preset. Without one the gateway runs
	// on its hardware clock, and a board without one (Raspberry Pi 4)
	// has no correct time at all.
	NTPServers []string `json:"ntp_servers,omitempty"`
}

// DefaultNetwork is a new gateway's network: DHCP on eth0, no NTP server.
func DefaultNetwork() Network {
	return Network{Mode: NetworkDHCP, Interface: DefaultInterface}
}

// Static reports whether n gives its own address instead of DHCP's.
func (n Network) Static() bool { return n.Mode == NetworkStatic }

// Iface is the interface n applies to, with the default filled in.
func (n Network) Iface() string {
	if n.Interface == "" {
		return DefaultInterface
	}
	return n.Interface
}

// Prefix is the static address and its prefix length.
func (n Network) Prefix() (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(n.Address))
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, msg.Errorf("%q は IPv4 アドレスとプレフィックス長ではありません(例: 192.168.10.20/24)",
			"%q is not an IPv4 address with a prefix length (e.g. 192.168.10.20/24)", n.Address)
	}
	return p, nil
}

var (
	hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	ifaceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$`)
)

// network checks c.Network; every message names the field the page's
// network step shows it beside.
func (v *checker) network(n Network) {
	const f = "network."
	switch n.Mode {
	case NetworkDHCP, NetworkStatic:
	default:
		v.Add(f+"mode", "\"dhcp\" か \"static\" を指定してください", "must be \"dhcp\" or \"static\"")
	}
	if n.Interface != "" && !ifaceName.MatchString(n.Interface) {
		v.Add(f+"interface", "インターフェース名が正しくありません(例: eth0)", "not an interface name (e.g. eth0)")
	}
	if n.Static() || n.Address != "" {
		v.staticAddress(n)
	}
	if len(n.DNS) > MaxDNS {
		v.AddText(f+"dns", msg.Sprintf("DNS サーバーは %d 台までです", "at most %d DNS servers", MaxDNS))
	}
	for i, d := range n.DNS {
		if a, err := netip.ParseAddr(strings.TrimSpace(d)); err != nil || !a.Is4() || !usable(a) {
			v.AddText(fmt.Sprintf("%sdns[%d]", f, i), msg.Sprintf("%q は DNS サーバーの IPv4 アドレスではありません", "%q is not a DNS server's IPv4 address", d))
		}
	}
	if n.Hostname != "" && !hostLabel.MatchString(n.Hostname) {
		v.Add(f+"hostname", "英数字と「-」で63文字以内にしてください(先頭と末尾は英数字)", "use up to 63 letters, digits and '-' (starting and ending with a letter or digit)")
	}
	v.ntpServers(n)
}

// staticAddress checks the address and gateway of static mode: a usable
// host address, and a gateway on its subnet.
func (v *checker) staticAddress(n Network) {
	const f = "network."
	if n.Static() && strings.TrimSpace(n.Address) == "" {
		v.Add(f+"address", "固定アドレスを指定してください(例: 192.168.10.20/24)", "give the static address (e.g. 192.168.10.20/24)")
		return
	}
	p, err := n.Prefix()
	if err != nil {
		v.AddText(f+"address", msg.TextOf(err))
		return
	}
	a := p.Addr()
	switch {
	case p.Bits() < 8 || p.Bits() > 30:
		v.Add(f+"address", "プレフィックス長は /8〜/30 にしてください(例: /24 は 255.255.255.0)", "the prefix length must be /8 to /30 (/24 is 255.255.255.0)")
	case !usable(a):
		v.AddText(f+"address", msg.Sprintf("%s はこの装置のアドレスには使えません", "%s cannot be this gateway's address", a))
	case a == p.Masked().Addr() || a == broadcast(p):
		v.AddText(f+"address", msg.Sprintf("%s はサブネットのネットワークアドレスかブロードキャストアドレスです", "%s is the subnet's network or broadcast address", a))
	}
	if n.Gateway == "" {
		return
	}
	g, err := netip.ParseAddr(strings.TrimSpace(n.Gateway))
	switch {
	case err != nil || !g.Is4():
		v.AddText(f+"gateway", msg.Sprintf("%q は IPv4 アドレスではありません", "%q is not an IPv4 address", n.Gateway))
	case g == a:
		v.Add(f+"gateway", "ゲートウェイにこの装置自身のアドレスは指定できません", "the gateway cannot be this device's own address")
	case !p.Masked().Contains(g):
		v.AddText(f+"gateway", msg.Sprintf("ゲートウェイ %s はサブネット %s の外にあります", "the gateway %s is outside the subnet %s", g, p.Masked()))
	}
}

// ntpServers checks the time servers: names or addresses, each once.
func (v *checker) ntpServers(n Network) {
	const f = "network.ntp_servers"
	if len(n.NTPServers) > MaxNTPServers {
		v.AddText(f, msg.Sprintf("NTP サーバーは %d 台までです", "at most %d NTP servers", MaxNTPServers))
	}
	seen := map[string]bool{}
	for i, s := range n.NTPServers {
		field := fmt.Sprintf("%s[%d]", f, i)
		host, err := NTPHost(s)
		switch {
		case err != nil:
			v.AddText(field, msg.TextOf(err))
		case seen[s]:
			v.AddText(field, msg.Sprintf("%q が重複しています", "%q is listed twice", s))
		case n.Static() && len(n.DNS) == 0 && !isAddr(host):
			v.AddText(field, msg.Sprintf("名前 %q を引くには DNS サーバーが必要です。NTP サーバーの IP アドレスを書くか、DNS サーバーを指定してください",
				"the name %q needs a DNS server: give the NTP server's IP address, or a DNS server", host))
		}
		seen[s] = true
	}
}

// NTPHost is the host part of a time server's entry ("ntp.example",
// "192.168.10.1:123", "[fd00::1]:123"), checked.
func NTPHost(s string) (string, error) {
	host := strings.TrimSpace(s)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return "", msg.Errorf("%q のポート番号が正しくありません", "%q has a bad port number", s)
		}
		host = h
	}
	if isAddr(host) || validHostName(host) {
		return host, nil
	}
	return "", msg.Errorf("%q は NTP サーバーの名前か IP アドレスではありません(例: 192.168.10.1、ntp.hospital.local)",
		"%q is not an NTP server's name or IP address (e.g. 192.168.10.1, ntp.hospital.local)", s)
}

func isAddr(s string) bool { _, err := netip.ParseAddr(s); return err == nil }

func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// usable: an address a host on a LAN can have.
func usable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	for i := range 4 {
		b[i] |= byte(host >> (8 * (3 - i)))
	}
	return netip.AddrFrom4(b)
}
