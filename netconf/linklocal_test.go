package netconf_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netconf"
)

// lanClient stands in for gokrazy's DHCP client on a LAN whose DHCP
// server answers while the file "answer" exists: it applies the lease as
// gokrazy's does (the address, and "DHCPACK: …" in its log), holds it,
// and exits when the server goes, leaving the address behind as gokrazy's
// does. Without the file it exits as gokrazy's does when nobody answers.
// With -static_network_config it exits 125 (applied).
const lanClient = `#!/bin/sh
case "$*" in *static_network_config*) exit 125;; esac
if [ -e %[1]s/answer ]; then
	ip -n %[2]s addr replace 10.77.0.5/24 dev eth7 || exit 1
	echo "dhcp.go:180: DHCPACK: IP 10.77.0.5/24, router 10.77.0.1"
	while [ -e %[1]s/answer ]; do sleep 0.1; done
	echo "request: read: i/o timeout"
	exit 1
fi
echo "discover: read: i/o timeout"
exit 1
`

// The fallback's timing in these tests: a second without a lease, then
// an ARP probe of at most 5 s per address (RFC 5227's timing).
const (
	llAfter = time.Second
	llWait  = 15 * time.Second // long enough for the after time and one probe
	llQuiet = 8 * time.Second  // the after time and a probe, with room
)

var lanSeq atomic.Int32

// lan is a LAN without a DHCP server: eth7, up, without an address or a
// route, in a network namespace of its own (ns, with the handle h); its
// peer peer7, the rest of the LAN, in another (peerNS). The fake client
// answers as a DHCP server would while dir/answer exists.
func lan(t *testing.T) (l *netconf.Linux, h *netlink.Handle, events chan netconf.LinkLocal, dir, peerNS string) {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespaces (root): make test runs it, -short skips it")
	}
	if os.Geteuid() != 0 {
		t.Fatal("network namespaces need root: run make test as root")
	}
	n := lanSeq.Add(1)
	ns, peerNS := fmt.Sprintf("dz-ll-%d-%d", os.Getpid(), n), fmt.Sprintf("dz-llpeer-%d-%d", os.Getpid(), n)
	for _, name := range []string{ns, peerNS} {
		sh(t, "ip", "netns", "add", name)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	}
	sh(t, "ip", "-n", ns, "link", "add", "eth7", "type", "veth", "peer", "name", "peer7", "netns", peerNS)
	sh(t, "ip", "-n", ns, "link", "set", "eth7", "up")
	sh(t, "ip", "-n", peerNS, "link", "set", "peer7", "up")
	handle, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = handle.Close() })
	h, err = netlink.NewHandleAt(handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	dir = t.TempDir()
	prog := filepath.Join(dir, "dhcp")
	if err := os.WriteFile(prog, []byte(fmt.Sprintf(lanClient, dir, ns)), 0o755); err != nil {
		t.Fatal(err)
	}
	events = make(chan netconf.LinkLocal, 10)
	l = &netconf.Linux{DHCP: prog, Handle: h, NetNS: ns, LinkLocalAfter: llAfter,
		SetHostname: func(string) error { return nil }, OnLinkLocal: func(ev netconf.LinkLocal) { events <- ev }}
	t.Cleanup(func() { _ = l.Close() })
	return l, h, events, dir, peerNS
}

var dhcpOn7 = config.Network{Mode: config.NetworkDHCP, Interface: "eth7"}

// linkLocals are the link-local addresses on eth7, with their scope.
func linkLocals(t *testing.T, h *netlink.Handle) map[string]int {
	t.Helper()
	link, err := h.LinkByName("eth7")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() {
			out[a.IPNet.String()] = a.Scope
		}
	}
	return out
}

func waitEvent(t *testing.T, events <-chan netconf.LinkLocal, within time.Duration) netconf.LinkLocal {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(within):
		t.Fatalf("no link-local address within %s", within)
		return netconf.LinkLocal{}
	}
}

func noEvent(t *testing.T, events <-chan netconf.LinkLocal, within time.Duration) {
	t.Helper()
	select {
	case ev := <-events:
		t.Fatalf("a link-local address was added: %+v", ev)
	case <-time.After(within):
	}
}

// Without a DHCP server, the fixed address comes after the wait, with link
// scope, among the addresses the page lists, and a PC on the link reaches
// it. A static configuration removes it and never gets it.
func TestLinkLocalWithoutDHCP(t *testing.T) {
	t.Parallel()
	l, h, events, _, peerNS := lan(t)
	ns := l.NetNS
	if err := l.Apply(context.Background(), dhcpOn7, false); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, llWait)
	if ev.Interface != "eth7" || ev.Address.String() != netconf.LinkLocalAddress+"/16" || ev.TakenBy != nil {
		t.Fatalf("event = %+v; want %s/16 on eth7, free", ev, netconf.LinkLocalAddress)
	}
	if got := linkLocals(t, h); len(got) != 1 || got["169.254.10.10/16"] != unix.RT_SCOPE_LINK {
		t.Fatalf("link-local addresses (scope) = %v; want 169.254.10.10/16 with link scope", got)
	}
	addrs, err := l.Addresses("eth7")
	if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParsePrefix("169.254.10.10/16") {
		t.Fatalf("the addresses the page lists = %v, %v", addrs, err)
	}
	// The engineer's PC, which gave itself an address in 169.254/16,
	// reaches the page's port there.
	sh(t, "ip", "-n", peerNS, "addr", "add", "169.254.77.7/16", "dev", "peer7")
	reach(t, ns, peerNS, net.JoinHostPort(netconf.LinkLocalAddress, "8443"))

	st := config.Network{Mode: config.NetworkStatic, Interface: "eth7", Address: "10.78.0.9/16"}
	if err := l.Apply(context.Background(), st, true); err != nil {
		t.Fatal(err)
	}
	if got := linkLocals(t, h); len(got) != 0 {
		t.Fatalf("after a static configuration: link-local addresses %v", got)
	}
	noEvent(t, events, llQuiet)
	if got := linkLocals(t, h); len(got) != 0 {
		t.Fatalf("a static configuration got a link-local address: %v", got)
	}
}

// With a DHCP answer no link-local address comes; once the server is gone
// (the client exits, its address stays, as gokrazy's does) it comes.
func TestLinkLocalNotWhileALeaseIsHeld(t *testing.T) {
	t.Parallel()
	l, h, events, dir, _ := lan(t)
	answer := filepath.Join(dir, "answer")
	if err := os.WriteFile(answer, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(context.Background(), dhcpOn7, false); err != nil {
		t.Fatal(err)
	}
	noEvent(t, events, llQuiet)
	if got := linkLocals(t, h); len(got) != 0 {
		t.Fatalf("link-local addresses with a lease: %v", got)
	}
	addrs, err := l.Addresses("eth7")
	if err != nil || len(addrs) != 1 || addrs[0].String() != "10.77.0.5/24" {
		t.Fatalf("addresses with a lease = %v, %v", addrs, err)
	}

	if err := os.Remove(answer); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, llWait)
	if ev.Address.String() != "169.254.10.10/16" {
		t.Fatalf("event = %+v", ev)
	}
	addrs, err = l.Addresses("eth7")
	if err != nil || len(addrs) != 2 {
		t.Fatalf("addresses after the lease was lost = %v, %v; want the stale lease and the link-local one", addrs, err)
	}
}

// A device that holds 169.254.10.10 answers the probe: the address
// derived from the gateway's MAC address is taken instead, and the event
// says who holds the fixed one.
func TestLinkLocalTakenFallsBackToTheMACAddress(t *testing.T) {
	t.Parallel()
	l, h, events, _, peerNS := lan(t)
	sh(t, "ip", "-n", peerNS, "addr", "add", "169.254.10.10/16", "dev", "peer7")
	peerMAC := macIn(t, peerNS, "peer7")
	link, err := h.LinkByName("eth7")
	if err != nil {
		t.Fatal(err)
	}
	want := netip.PrefixFrom(netconf.DerivedLinkLocal(link.Attrs().HardwareAddr, 0), 16)

	if err := l.Apply(context.Background(), dhcpOn7, false); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, llWait+5*time.Second)
	if ev.Address != want || ev.TakenBy.String() != peerMAC {
		t.Fatalf("event = %+v; want %s, taken by %s", ev, want, peerMAC)
	}
	if got := linkLocals(t, h); len(got) != 1 || got[want.String()] != unix.RT_SCOPE_LINK {
		t.Fatalf("link-local addresses = %v; want only %s", got, want)
	}
}

// reach serves addr in the gateway's namespace ns and connects to it
// from the PC's, pcNS.
func reach(t *testing.T, ns, pcNS, addr string) {
	t.Helper()
	var ln net.Listener
	inNS(t, ns, func() (err error) { ln, err = net.Listen("tcp", addr); return err })
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("page")) // the test reads it, or fails
			_ = c.Close()
		}
	}()
	var c net.Conn
	inNS(t, pcNS, func() (err error) { c, err = net.DialTimeout("tcp", addr, 5*time.Second); return err })
	defer func() { _ = c.Close() }()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "page" {
		t.Fatalf("from the PC: %q, %v", b, err)
	}
}

// inNS runs f in the named network namespace, on a thread that ends with
// it (sockets made there stay there).
func inNS(t *testing.T, name string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the other namespace
		ns, err := netns.GetFromName(name)
		if err != nil {
			done <- err
			return
		}
		defer func() { _ = ns.Close() }()
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		done <- f()
	}()
	if err := <-done; err != nil {
		t.Fatalf("in %s: %v", name, err)
	}
}

func macIn(t *testing.T, ns, iface string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-o", "link", "show", iface).Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	for i, w := range f {
		if w == "link/ether" && i+1 < len(f) {
			return f[i+1]
		}
	}
	t.Fatalf("no MAC address in %q", out)
	return ""
}

// The derived addresses are in RFC 3927's range, never the fixed one, and
// the same for the same MAC address at every start.
func TestDerivedLinkLocal(t *testing.T) {
	fixed := netip.MustParseAddr(netconf.LinkLocalAddress)
	lo, hi := netip.MustParseAddr("169.254.1.0"), netip.MustParseAddr("169.254.254.255")
	seen := map[netip.Addr]bool{}
	for i := range 2000 {
		mac := net.HardwareAddr{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		for n := range 3 {
			a := netconf.DerivedLinkLocal(mac, n)
			if a == fixed || a.Less(lo) || hi.Less(a) {
				t.Fatalf("derived(%s, %d) = %s", mac, n, a)
			}
			if a != netconf.DerivedLinkLocal(mac, n) {
				t.Fatalf("derived(%s, %d) changes", mac, n)
			}
			seen[a] = true
		}
	}
	if len(seen) < 5000 {
		t.Errorf("only %d different addresses for 6000 MAC addresses and tries", len(seen))
	}
}
