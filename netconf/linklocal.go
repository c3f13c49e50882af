package netconf

import (
	"context"
	"errors"
	"hash/fnv"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
)

// The link-local fallback. A gateway in DHCP mode on a LAN without a DHCP
// server (common on a closed 電子カルテ LAN) would have no address at all,
// and nobody could open its page to commission it. So when the DHCP client
// has held no lease for LinkLocalAfter, the interface also gets
// LinkLocalAddress/16 (RFC 3927): a fixed address, so that the runbook and
// the label on the box can name it. An engineer's PC connected directly or
// on the same switch gives itself a 169.254.x.y address when no DHCP server
// answers, and reaches the page there.
//
// An ARP probe (RFC 5227) checks first that no other device holds it; if
// one does (another gateway on the same LAN, or the engineer's PC that
// picked it first), an address derived from the MAC address is probed and
// taken instead, the same one at every start.
//
// The address stays when a lease comes later: a DHCP server that answers
// late (a switch port still in spanning-tree learning, a server switched
// on while the engineer works) must not cut the page from under the
// engineer at 169.254.10.10, and it is harmless: it is added with link
// scope, so the kernel never sends routed traffic from it, and its route
// covers only 169.254.0.0/16 on this link. It goes with the rest when
// other settings apply (a static address never has it).

// LinkLocalAddress is the fixed fallback address (prefix length 16).
const LinkLocalAddress = "169.254.10.10"

// DefaultLinkLocalAfter is how long DHCP mode goes without a lease before
// the link-local address is added: a DHCP server answers in seconds.
const DefaultLinkLocalAfter = 20 * time.Second

// The fallback's timing: the lease is looked at every linkLocalTick; after
// a failure (every candidate taken, or the address could not be added)
// the next try waits linkLocalRetry.
const (
	linkLocalTick  = time.Second
	linkLocalRetry = time.Minute
	// derivedTries is how many MAC-derived addresses are probed when the
	// fixed one is taken.
	derivedTries = 3
)

// LinkLocal is a fallback address on an interface, as OnLinkLocal is told.
type LinkLocal struct {
	Interface string
	Address   netip.Prefix
	// TakenBy is the MAC address of the device that answered for
	// LinkLocalAddress (nil: it was free, and Address is it).
	TakenBy net.HardwareAddr
}

// fixedLinkLocal is LinkLocalAddress as an address.
func fixedLinkLocal() netip.Addr { return netip.MustParseAddr(LinkLocalAddress) }

// isLinkLocal: a in 169.254.0.0/16.
func isLinkLocal(a netip.Addr) bool { return a.Is4() && a.IsLinkLocalUnicast() }

// derivedLinkLocal is the n-th address derived from mac, in RFC 3927's
// range 169.254.1.0–169.254.254.255, never LinkLocalAddress.
func derivedLinkLocal(mac net.HardwareAddr, n int) netip.Addr {
	h := fnv.New32a()
	h.Write(mac)
	h.Write([]byte{byte(n)})
	const size = 254 * 256
	v := h.Sum32() % size
	a := netip.AddrFrom4([4]byte{169, 254, byte(1 + v/256), byte(v % 256)})
	if a == fixedLinkLocal() {
		v = (v + 1) % size
		a = netip.AddrFrom4([4]byte{169, 254, byte(1 + v/256), byte(v % 256)})
	}
	return a
}

// watchLease adds the link-local address once the DHCP client has held no
// lease for LinkLocalAfter (from the start, or since it lost one), until
// ctx ends.
func (l *Linux) watchLease(ctx context.Context, iface string, leased func() bool) {
	after := l.LinkLocalAfter
	if after <= 0 {
		after = DefaultLinkLocalAfter
	}
	since := time.Now() // the last moment a lease was held, or the start
	var next time.Time  // no try before then, after a failure
	t := time.NewTicker(linkLocalTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if leased() {
			since = now
			continue
		}
		if now.Sub(since) < after || now.Before(next) {
			continue
		}
		if err := l.fallBack(ctx, iface); err != nil && ctx.Err() == nil {
			l.log().Warn("network: no DHCP answer, and no link-local address could be added; trying again", "interface", iface, "err", err, "in", linkLocalRetry)
			next = now.Add(linkLocalRetry)
		}
	}
}

// fallBack makes sure iface holds a link-local address, and reports it
// once.
func (l *Linux) fallBack(ctx context.Context, iface string) error {
	link, err := l.link(iface)
	if err != nil {
		return err
	}
	held, err := l.linkLocalOn(link)
	if err != nil {
		return err
	}
	if held.IsValid() { // from before danzend restarted, or kept
		l.report(LinkLocal{Interface: iface, Address: held})
		return nil
	}
	if !carrier(link) {
		return nil // probing a link without carrier proves nothing: wait
	}
	ev, err := l.claim(ctx, link)
	if err != nil {
		return err
	}
	l.report(ev)
	return nil
}

// carrier reports whether link is up with a carrier (or a driver that
// does not say).
func carrier(link netlink.Link) bool {
	s := link.Attrs().OperState
	return link.Attrs().Flags&net.FlagUp != 0 && (s == netlink.OperUp || s == netlink.OperUnknown)
}

// linkLocalOn is the link-local address on link, if any.
func (l *Linux) linkLocalOn(link netlink.Link) (netip.Prefix, error) {
	addrs, err := l.handle().AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return netip.Prefix{}, msg.Errorf("アドレスの一覧を読めません: %w", "cannot list the addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && isLinkLocal(ip) {
			ones, _ := a.Mask.Size()
			return netip.PrefixFrom(ip, ones), nil
		}
	}
	return netip.Prefix{}, nil
}

// claim probes LinkLocalAddress, then the MAC-derived addresses, and adds
// the first that no other device answers for.
func (l *Linux) claim(ctx context.Context, link netlink.Link) (LinkLocal, error) {
	iface := link.Attrs().Name
	ev := LinkLocal{Interface: iface}
	c, err := openARP(l.NetNS, iface)
	if err != nil {
		// Better an address that may be in use than a gateway nobody
		// can reach.
		l.log().Warn("network: cannot probe for the link-local address; adding it unprobed", "interface", iface, "err", err)
		ev.Address = netip.PrefixFrom(fixedLinkLocal(), 16)
		return ev, l.addLinkLocal(link, ev.Address)
	}
	defer c.close()
	candidates := []netip.Addr{fixedLinkLocal()}
	for n := range derivedTries {
		candidates = append(candidates, derivedLinkLocal(c.mac, n))
	}
	for i, a := range candidates {
		by, err := c.probe(ctx, a)
		if err != nil {
			return ev, err
		}
		if by != nil {
			l.log().Warn("network: the link-local address is in use by another device", "address", a, "mac", by)
			if i == 0 {
				ev.TakenBy = by
			}
			continue
		}
		ev.Address = netip.PrefixFrom(a, 16)
		if err := l.addLinkLocal(link, ev.Address); err != nil {
			return ev, err
		}
		if err := c.announce(a); err != nil {
			l.log().Warn("network: announcing the link-local address", "address", a, "err", err)
		}
		return ev, nil
	}
	return ev, msg.Errorf("リンクローカルアドレス %s はどれも別の機器が使っています", "every link-local address tried (%s) is in use by another device", candidates)
}

// addLinkLocal adds p to link with link scope: the kernel never picks it
// as the source of routed traffic, whatever else the interface holds.
func (l *Linux) addLinkLocal(link netlink.Link, p netip.Prefix) error {
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 32)}, Scope: unix.RT_SCOPE_LINK}
	if err := l.handle().AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return msg.Errorf("リンクローカルアドレス %s を追加できません: %w", "cannot add the link-local address %s: %w", p, err)
	}
	l.log().Info("network: no DHCP answer; added the link-local address", "interface", link.Attrs().Name, "address", p)
	return nil
}

// report tells OnLinkLocal about ev, unless it was told that address
// already (since the last flush).
func (l *Linux) report(ev LinkLocal) {
	l.llMu.Lock()
	seen := l.reported == ev.Address
	l.reported = ev.Address
	l.llMu.Unlock()
	if !seen && l.OnLinkLocal != nil {
		l.OnLinkLocal(ev)
	}
}

// forgetReported: the flush removed the link-local address; adding it
// again is news.
func (l *Linux) forgetReported() {
	l.llMu.Lock()
	l.reported = netip.Prefix{}
	l.llMu.Unlock()
}
