package netconf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Paths on a gokrazy appliance.
const (
	// GokrazyDHCP is gokrazy's DHCP client. The instance configs install
	// it with DontStart: danzend runs it, in DHCP mode as the client and
	// in static mode with -static_network_config, gokrazy's own way of
	// applying a static address.
	GokrazyDHCP = "/gokrazy/dhcp"
	// GokrazyResolvConf is what /etc/resolv.conf links to on gokrazy.
	GokrazyResolvConf = "/tmp/resolv.conf"
	// pnp is where gokrazy points resolv.conf at boot: the kernel's
	// (empty) autoconfiguration; gokrazy's DHCP client replaces it.
	pnp = "/proc/net/pnp"
)

// staticTimeout bounds applying a static address (gokrazy's client waits
// up to 10 s for the link's carrier).
const staticTimeout = 30 * time.Second

// Linux is the System of the appliance.
type Linux struct {
	// DHCP is the DHCP client program (GokrazyDHCP).
	DHCP string
	// ResolvConf is reset when the settings before are removed
	// (GokrazyResolvConf).
	ResolvConf string
	// ImageHostname is the host name used when the settings give none
	// (the image's /etc/hostname).
	ImageHostname string
	// SetHostname sets the kernel's host name (nil: sethostname(2)).
	SetHostname func(string) error
	// Handle is the netlink handle (nil: this process's namespace).
	Handle *netlink.Handle
	// NetNS names the network namespace (ip netns) Handle works in, for
	// the ARP probe's socket (tests; empty: this process's).
	NetNS string
	// LinkLocalAfter is how long DHCP mode goes without a lease before
	// the link-local address is added (0: DefaultLinkLocalAfter).
	LinkLocalAfter time.Duration
	// OnLinkLocal is told each link-local address added, or found on the
	// interface, in DHCP mode (linklocal.go). It must not block long.
	OnLinkLocal func(LinkLocal)
	Log         *slog.Logger

	mu     sync.Mutex
	client *dhcpClient // the running DHCP client, in DHCP mode

	llMu     sync.Mutex
	reported netip.Prefix // the link-local address OnLinkLocal was told
}

// NewLinux is the System of a gokrazy appliance.
func NewLinux(log *slog.Logger) *Linux {
	host, err := os.ReadFile("/etc/hostname")
	if err != nil {
		log.Warn("network: the image's host name is unreadable", "err", err)
	}
	return &Linux{DHCP: GokrazyDHCP, ResolvConf: GokrazyResolvConf, ImageHostname: strings.TrimSpace(string(host)), Log: log}
}

func (l *Linux) handle() *netlink.Handle {
	if l.Handle == nil {
		return &netlink.Handle{}
	}
	return l.Handle
}

func (l *Linux) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

// Apply stops the DHCP client, removes what other settings left if flush
// says so, sets the host name, then applies n: gokrazy's DHCP client is
// started (DHCP, with the link-local fallback while it holds no lease) or
// run once with n's address (static).
func (l *Linux) Apply(ctx context.Context, n config.Network, flush bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopClient()
	link, err := l.link(n.Iface())
	if err != nil {
		return err
	}
	if flush {
		if err := l.flush(link); err != nil {
			return err
		}
	}
	if err := l.hostname(n.Hostname); err != nil {
		return err
	}
	if n.Static() {
		return l.applyStatic(ctx, n)
	}
	l.client = l.startClient(n.Iface())
	return nil
}

// link finds iface, or says which interfaces there are.
func (l *Linux) link(iface string) (netlink.Link, error) {
	link, err := l.handle().LinkByName(iface)
	if err == nil {
		return link, nil
	}
	var names []string
	if links, lerr := l.handle().LinkList(); lerr == nil {
		for _, k := range links {
			if k.Type() != "loopback" && k.Attrs().Name != "lo" {
				names = append(names, k.Attrs().Name)
			}
		}
	}
	return nil, msg.Errorf("ネットワークインターフェース %s がありません(あるもの: %s): %w", "there is no network interface %s (there are: %s): %w",
		iface, strings.Join(names, ", "), err)
}

// flush removes every IPv4 address (the link-local one too) and default
// route on link and points
// resolv.conf back at gokrazy's boot-time file, so that nothing of the
// settings before stays.
func (l *Linux) flush(link netlink.Link) error {
	h := l.handle()
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return msg.Errorf("アドレスの一覧を読めません: %w", "cannot list the addresses: %w", err)
	}
	for i := range addrs {
		if err := h.AddrDel(link, &addrs[i]); err != nil {
			return msg.Errorf("アドレス %s を外せません: %w", "cannot remove the address %s: %w", addrs[i].IPNet, err)
		}
	}
	l.forgetReported()
	routes, err := h.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return msg.Errorf("経路の一覧を読めません: %w", "cannot list the routes: %w", err)
	}
	for i, r := range routes {
		if r.Dst != nil && !(r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)) {
			continue // a subnet's route went with its address
		}
		if err := h.RouteDel(&routes[i]); err != nil {
			return msg.Errorf("既定の経路 %s を外せません: %w", "cannot remove the default route via %s: %w", r.Gw, err)
		}
	}
	return l.resetResolvConf()
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

// resetResolvConf points resolv.conf at gokrazy's boot-time target, which
// gokrazy's DHCP client replaces with what the DHCP server says.
func (l *Linux) resetResolvConf() error {
	if l.ResolvConf == "" {
		return nil
	}
	tmp := l.ResolvConf + ".danzen"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Symlink(pnp, tmp); err != nil {
		return msg.Errorf("%s を戻せません: %w", "cannot reset %s: %w", l.ResolvConf, err)
	}
	if err := os.Rename(tmp, l.ResolvConf); err != nil {
		return msg.Errorf("%s を戻せません: %w", "cannot reset %s: %w", l.ResolvConf, err)
	}
	return nil
}

// hostname sets the kernel's host name (the DHCP client sends it).
func (l *Linux) hostname(name string) error {
	if name == "" {
		name = l.ImageHostname
	}
	if name == "" {
		return nil
	}
	set := l.SetHostname
	if set == nil {
		set = func(s string) error { return unix.Sethostname([]byte(s)) }
	}
	if err := set(name); err != nil {
		return msg.Errorf("ホスト名 %s を設定できません: %w", "cannot set the host name %s: %w", name, err)
	}
	return nil
}

// lease is gokrazy's -static_network_config: rtr7/dhcp4.Lease as JSON
// (a net.IPMask is encoded as base64 bytes).
type lease struct {
	IP      string
	Netmask []byte
	Router  string   `json:",omitempty"`
	DNS     []string `json:",omitempty"`
}

// applyStatic runs gokrazy's DHCP client with n's address: it applies it
// (address, default route, resolv.conf, and a SIGHUP to gokrazy's init so
// its own page listens there) and exits 125.
func (l *Linux) applyStatic(ctx context.Context, n config.Network) error {
	p, err := n.Prefix()
	if err != nil {
		return err
	}
	cfg, err := json.Marshal(lease{IP: p.Addr().String(), Netmask: net.CIDRMask(p.Bits(), 32), Router: n.Gateway, DNS: n.DNS})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, staticTimeout)
	defer cancel()
	var out tail
	cmd := clientCommand(ctx, l.DHCP, &out, "-interface="+n.Iface(), "-static_network_config="+string(cfg))
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 125 {
		l.log().Info("network: static address applied", "interface", n.Iface(), "address", p, "gateway", n.Gateway, "dns", n.DNS)
		return nil
	}
	if err == nil {
		err = errors.New("exit status 0")
	}
	return msg.Errorf("固定アドレス %s を適用できません(%s): %w", "cannot apply the static address %s (%s): %w", p, strings.TrimSpace(out.String()), err)
}

// Addresses are the IPv4 addresses on iface now.
func (l *Linux) Addresses(iface string) ([]netip.Prefix, error) {
	link, err := l.link(iface)
	if err != nil {
		return nil, err
	}
	addrs, err := l.handle().AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return nil, msg.Errorf("アドレスの一覧を読めません: %w", "cannot list the addresses: %w", err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip, ones))
	}
	return out, nil
}

// Close stops the DHCP client; its address stays until the lease ends,
// and the link-local one stays too (the next start reports it again).
func (l *Linux) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopClient()
	return nil
}

func (l *Linux) stopClient() {
	if l.client != nil {
		l.client.stop()
		l.client = nil
	}
}

// dhcpClient keeps gokrazy's DHCP client running: it exits when no server
// answers (log.Fatal) and is started again, less often the longer it fails.
// Alongside, watchLease adds the link-local address while no lease is held.
type dhcpClient struct {
	cancel context.CancelFunc
	done   chan struct{}
	// leased: the client running now has said DHCPACK. It is the lease
	// rather than an address on the interface: gokrazy's client leaves
	// its address when it loses the lease and exits.
	leased atomic.Bool
}

// Bounds of the DHCP client's restart delay.
const (
	restartMin = time.Second
	restartMax = 30 * time.Second
)

// startClient runs the DHCP client on iface and, alongside, the
// link-local fallback, until stopped.
func (l *Linux) startClient(iface string) *dhcpClient {
	ctx, cancel := context.WithCancel(context.Background())
	c := &dhcpClient{cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Go(func() { c.run(ctx, l.log(), l.DHCP, iface) })
	wg.Go(func() { l.watchLease(ctx, iface, c.leased.Load) })
	go func() {
		wg.Wait()
		close(c.done)
	}()
	return c
}

// run runs the client until ctx ends, starting it again when it exits.
func (c *dhcpClient) run(ctx context.Context, log *slog.Logger, prog, iface string) {
	delay := restartMin
	for {
		started := time.Now()
		out := tail{log: log, ack: &c.leased}
		err := clientCommand(ctx, prog, &out, "-interface="+iface).Run()
		c.leased.Store(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("network: the DHCP client stopped; starting it again", "interface", iface, "err", err, "output", strings.TrimSpace(out.String()), "in", delay)
		if time.Since(started) > time.Minute {
			delay = restartMin
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, restartMax)
	}
}

func (c *dhcpClient) stop() {
	c.cancel()
	<-c.done
}

// clientCommand runs prog with args; it is stopped with SIGTERM when ctx
// ends and killed if danzend itself dies, so no client outlives it.
func clientCommand(ctx context.Context, prog string, out *tail, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// tail keeps the last few KiB a program wrote, for its error message,
// passes each write to log when set (the DHCP client's leases), and sets
// ack when the DHCP client says it holds a lease ("DHCPACK: IP …", one
// line a write).
type tail struct {
	mu  sync.Mutex
	b   bytes.Buffer
	log *slog.Logger
	ack *atomic.Bool
}

const tailBytes = 2048

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.log != nil {
		t.log.Info("network: DHCP client", "out", strings.TrimSpace(string(p)))
	}
	if t.ack != nil && bytes.Contains(p, []byte("DHCPACK")) {
		t.ack.Store(true)
	}
	t.b.Write(p)
	if over := t.b.Len() - tailBytes; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
