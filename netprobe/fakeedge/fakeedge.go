// Package fakeedge builds a small hospital edge for netprobe's tests and
// benchmark: network namespaces with no default route, one for the
// scanner and one per fake device, joined by veth pairs, with real peers
// (OpenSSH sshd, Debian's snmpd, nftables) and Go fakes (an SSL-VPN
// portal lookalike, a Telnet banner, UDP echoes). Nothing in it can reach
// an address outside the namespaces it creates. It needs root.
package fakeedge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// World is the scanner's namespace and the devices around it.
type World struct {
	Scanner string // namespace the scanner must run in
	Dir     string // scratch directory (configs, keys, logs)
	Devices []*Device
	mu      sync.Mutex
	closers []func()
	procs   []*exec.Cmd
	logs    map[string]*bytes.Buffer
}

// Device is one fake edge device in its own namespace.
type Device struct {
	NS  string
	LAN netip.Addr // on the veth towards the scanner
	WAN netip.Addr // a TEST-NET address on the same link, routed from the scanner
}

// New creates the scanner namespace and n device namespaces. Names carry
// the process ID so that parallel runs do not collide.
func New(dir string, n int) (_ *World, err error) {
	w := &World{Dir: dir, Scanner: fmt.Sprintf("dzs%d", os.Getpid()), logs: map[string]*bytes.Buffer{}}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	if err := w.ip("netns", "add", w.Scanner); err != nil {
		return nil, err
	}
	w.closers = append(w.closers, func() { w.delNS(w.Scanner) })
	if err := w.ip("-n", w.Scanner, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	for i := 1; i <= n; i++ {
		d := &Device{
			NS:  fmt.Sprintf("dzd%d-%d", i, os.Getpid()),
			LAN: netip.AddrFrom4([4]byte{10, 231, byte(i), 2}),
			WAN: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}),
		}
		if err := w.ip("netns", "add", d.NS); err != nil {
			return nil, err
		}
		w.closers = append(w.closers, func() { w.delNS(d.NS) })
		s, v := fmt.Sprintf("dzs%d", i), fmt.Sprintf("dzv%d", i)
		for _, args := range [][]string{
			{"-n", w.Scanner, "link", "add", s, "type", "veth", "peer", "name", v, "netns", d.NS},
			{"-n", w.Scanner, "addr", "add", fmt.Sprintf("10.231.%d.1/24", i), "dev", s},
			{"-n", w.Scanner, "link", "set", s, "up"},
			{"-n", w.Scanner, "route", "add", d.WAN.String() + "/32", "dev", s},
			{"-n", d.NS, "addr", "add", d.LAN.String() + "/24", "dev", v},
			{"-n", d.NS, "addr", "add", d.WAN.String() + "/32", "dev", v},
			{"-n", d.NS, "link", "set", v, "up"},
			{"-n", d.NS, "link", "set", "lo", "up"},
		} {
			if err := w.ip(args...); err != nil {
				return nil, err
			}
		}
		w.Devices = append(w.Devices, d)
	}
	return w, nil
}

func (w *World) ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// delNS deletes namespace ns. A failure is noted in Logs: Close has no
// one to return it to, and a namespace left behind is only untidy (its
// name carries this process's ID).
func (w *World) delNS(ns string) {
	if err := w.ip("netns", "del", ns); err != nil {
		w.note("ip netns del", err)
	}
}

// note keeps a cleanup failure for Logs. The caller holds w.mu.
func (w *World) note(what string, err error) {
	b := w.logs[what]
	if b == nil {
		b = &bytes.Buffer{}
		w.logs[what] = b
	}
	fmt.Fprintln(b, err)
}

// closeQuietly closes what a fake or the namespace plumbing opened for
// reading or serving: nothing is buffered that a failed close could lose.
func closeQuietly(c io.Closer) { _ = c.Close() }

// Close stops every process and listener and deletes the namespaces.
func (w *World) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.procs {
		if err := c.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			w.note("kill", err)
		}
		_ = c.Wait() // "signal: killed": that was the point
	}
	w.procs = nil
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// Command returns cmd to run inside namespace ns. It enters the network
// namespace only (nsenter --net), never `ip netns exec`: that also makes a
// new mount namespace, and with the root mount private (containers) the
// copy holds every filesystem mounted at that moment — other tests' loop
// disks then cannot detach until the process ends.
func Command(ctx context.Context, ns string, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + ns, "--", name}, args...)...)
}

// Start runs a long-lived process inside ns until Close; its output is
// kept for Log.
func (w *World) Start(ns, name string, args ...string) error {
	c := Command(context.Background(), ns, name, args...)
	var buf bytes.Buffer
	c.Stdout, c.Stderr = &buf, &buf
	if err := c.Start(); err != nil {
		return err
	}
	w.mu.Lock()
	w.procs = append(w.procs, c)
	w.logs[ns+" "+name] = &buf
	w.mu.Unlock()
	return nil
}

// Logs returns what the started processes printed, for a failing test.
func (w *World) Logs() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for k, v := range w.logs {
		fmt.Fprintf(&b, "== %s\n%s\n", k, v.String())
	}
	return b.String()
}

// inNS runs f on an OS thread that has joined namespace ns. Sockets made
// there stay in ns after the thread leaves.
func inNS(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Not unlocked: if switching back fails, the thread must die with
		// the goroutine instead of serving others in the wrong namespace.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer closeQuietly(orig)
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer closeQuietly(target)
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Listen opens a TCP listener inside ns; Close closes it.
func (w *World) Listen(ns, addr string) (net.Listener, error) {
	var ln net.Listener
	err := w.open(ns, func() (c io.Closer, err error) { ln, err = net.Listen("tcp", addr); return ln, err })
	return ln, err
}

// ListenUDP opens a UDP socket inside ns; Close closes it.
func (w *World) ListenUDP(ns, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := w.open(ns, func() (c io.Closer, err error) { pc, err = net.ListenPacket("udp", addr); return pc, err })
	return pc, err
}

// open runs f inside ns and closes what it opened on Close.
func (w *World) open(ns string, f func() (io.Closer, error)) error {
	var c io.Closer
	if err := inNS(ns, func() (err error) { c, err = f(); return err }); err != nil {
		return err
	}
	w.mu.Lock()
	w.closers = append(w.closers, func() { closeQuietly(c) })
	w.mu.Unlock()
	return nil
}

// Wait waits until something listens on port (proto "tcp" or "udp")
// inside ns; real daemons take a moment to bind.
func Wait(ns, proto string, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, _ := Command(context.Background(), ns, "ss", "-Hl"+proto[:1]+"n", fmt.Sprintf("sport = :%d", port)).Output()
		if len(bytes.TrimSpace(out)) > 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s %d in %s after %v", proto, port, ns, timeout)
}
