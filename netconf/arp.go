package netconf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
)

// The ARP probe of RFC 5227 (which RFC 3927 uses for link-local
// addresses): ARP requests asking for the address from 0.0.0.0; any
// device that holds it answers, and one probing for it at the same
// moment sends the same request.
const (
	probeWait     = time.Second     // a random wait up to this before the first probe
	probeNum      = 3               // probes sent
	probeInterval = time.Second     // between them
	announceWait  = 2 * time.Second // listened after the last
	// readTimeout bounds each read, so that a probe ends with its context.
	readTimeout = 100 * time.Millisecond
)

// arpConn is a packet socket for ARP on one interface.
type arpConn struct {
	fd      int
	ifindex int
	mac     net.HardwareAddr
}

// openARP opens the socket on iface in the named network namespace
// (empty: this process's). A socket stays in the namespace it was made
// in, so only its making happens there, on a thread of its own that ends
// with it.
func openARP(netns, iface string) (*arpConn, error) {
	type result struct {
		c   *arpConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		if netns != "" {
			runtime.LockOSThread() // never unlocked: the thread, in the other namespace, ends with this goroutine
			if err := enterNetNS(netns); err != nil {
				done <- result{nil, err}
				return
			}
		}
		c, err := openARPHere(iface)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

// enterNetNS moves this thread into the named network namespace.
func enterNetNS(name string) error {
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return msg.Errorf("ネットワーク名前空間 %s を開けません: %w", "cannot open the network namespace %s: %w", name, err)
	}
	defer func() { _ = unix.Close(fd) }() // read-only; setns holds its own reference
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return msg.Errorf("ネットワーク名前空間 %s に入れません: %w", "cannot enter the network namespace %s: %w", name, err)
	}
	return nil
}

func openARPHere(iface string) (*arpConn, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return nil, msg.Errorf("ARP 用のソケットを開けません: %w", "cannot open a socket for ARP: %w", err)
	}
	c := &arpConn{fd: fd, ifindex: ifi.Index, mac: ifi.HardwareAddr}
	tv := unix.NsecToTimeval(readTimeout.Nanoseconds())
	if err := errors.Join(
		unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}),
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)); err != nil {
		c.close()
		return nil, msg.Errorf("ARP 用のソケットを %s に結び付けられません: %w", "cannot bind the ARP socket to %s: %w", iface, err)
	}
	return c, nil
}

func (c *arpConn) close() { _ = unix.Close(c.fd) } // nothing was written that a close could lose

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// probe asks probeNum times whether another device holds a, and returns
// the MAC address of one that does (nil: nobody answered).
func (c *arpConn) probe(ctx context.Context, a netip.Addr) (net.HardwareAddr, error) {
	wait := rand.N(probeWait)
	if by, err := c.listen(ctx, a, time.Now().Add(wait)); by != nil || err != nil {
		return by, err
	}
	for i := range probeNum {
		if err := c.send(netip.IPv4Unspecified(), a); err != nil {
			return nil, err
		}
		d := probeInterval
		if i == probeNum-1 {
			d = announceWait
		}
		if by, err := c.listen(ctx, a, time.Now().Add(d)); by != nil || err != nil {
			return by, err
		}
	}
	return nil, nil
}

// announce tells the link that a is taken now (a gratuitous ARP).
func (c *arpConn) announce(a netip.Addr) error { return c.send(a, a) }

// send broadcasts an ARP request for target from sender.
func (c *arpConn) send(sender, target netip.Addr) error {
	p := make([]byte, 28)
	binary.BigEndian.PutUint16(p[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(p[2:], 0x0800) // IPv4
	p[4], p[5] = 6, 4
	binary.BigEndian.PutUint16(p[6:], 1) // request
	copy(p[8:14], c.mac)
	s, t := sender.As4(), target.As4()
	copy(p[14:18], s[:])
	copy(p[24:28], t[:])
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: c.ifindex, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	if err := unix.Sendto(c.fd, p, 0, to); err != nil {
		return msg.Errorf("ARP 要求を送れません: %w", "cannot send an ARP request: %w", err)
	}
	return nil
}

// listen reads ARP until deadline for a sign that another device holds or
// probes for a, and returns its MAC address.
func (c *arpConn) listen(ctx context.Context, a netip.Addr, deadline time.Time) (net.HardwareAddr, error) {
	buf := make([]byte, 1500)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, from, err := unix.Recvfrom(c.fd, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return nil, msg.Errorf("ARP を受信できません: %w", "cannot receive ARP: %w", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // our own probe
		}
		if by := c.conflict(buf[:n], a); by != nil {
			return by, nil
		}
	}
	return nil, nil
}

// conflict is the sender of p when p shows another device holding a (it
// sends from a) or probing for it (a request for a from 0.0.0.0).
func (c *arpConn) conflict(p []byte, a netip.Addr) net.HardwareAddr {
	if len(p) < 28 || binary.BigEndian.Uint16(p[0:]) != 1 || binary.BigEndian.Uint16(p[2:]) != 0x0800 || p[4] != 6 || p[5] != 4 {
		return nil
	}
	sha := net.HardwareAddr(bytes.Clone(p[8:14]))
	if bytes.Equal(sha, c.mac) {
		return nil
	}
	spa, tpa := netip.AddrFrom4([4]byte(p[14:18])), netip.AddrFrom4([4]byte(p[24:28]))
	op := binary.BigEndian.Uint16(p[6:])
	if spa == a || op == 1 && spa.IsUnspecified() && tpa == a {
		return sha
	}
	return nil
}
