// Package netprobe is the WAN-edge self-scan: it checks the hospital's
// external connection points from inside, the way the programme's outside
// vulnerability diagnosis does. It touches only the addresses in the
// register, limits its rate, reads what services show to anyone (banners,
// headers, certificates, protocol answers) and compares announced or
// registered versions with the known-exploited feed. It never logs in and
// never exploits.
package netprobe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// Options shape one scan. Zero fields take the defaults of DefaultOptions.
type Options struct {
	TCPPorts       []int         // ports to connect to; all 65,535 by default
	Concurrency    int           // connects in flight per address
	Rate           float64       // connects and probes per second over the whole scan
	ConnectTimeout time.Duration // the longest wait for one connect
	BannerWait     time.Duration // the wait for a greeting, handshake or reply
	// Tries is how many connects a silent priority port gets (well-known
	// edge ports, those open last time); other silent ports get fewer
	// unless the device shows packet loss (see retryPorts).
	Tries int
	// SNMPCommunities are tried only when given (opt-in). A reply to
	// "public" or "private" is a 注意 finding.
	SNMPCommunities []string
	Feed            *kev.Feed // nil: the embedded feed
	Previous        *Report   // the last scan, for the diff and the "newly open" rule
	Log             *slog.Logger
	// Progress, if set, hears each step; it is called from several
	// goroutines at once.
	Progress func(Progress)
	// Refuse, if set, says why point id's address a must not be touched
	// (nil: scan it). A refused address is reported as not scanned, with
	// the reason, and the rest of the register is scanned.
	Refuse func(id string, a netip.Addr) error
}

// Progress is one step of a scan, for the page's event stream.
type Progress struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Phase string `json:"phase"` // tcp, identify, done
	Open  int    `json:"open"`  // open ports so far (TCP at identify, all at done)
}

// DefaultOptions are the defaults the CLI and the gateway start from.
func DefaultOptions() Options {
	return Options{Concurrency: 1024, Rate: 20000, ConnectTimeout: time.Second, Tries: 4, BannerWait: 1500 * time.Millisecond}
}

// OptionsFromConfig applies the configuration's scan settings.
func OptionsFromConfig(s config.Scan) (Options, error) {
	o := DefaultOptions()
	ports, err := config.ParsePorts(s.TCPPorts)
	if err != nil {
		return o, err
	}
	o.TCPPorts = ports
	if s.Rate > 0 {
		o.Rate = float64(s.Rate)
	}
	if s.Concurrency > 0 {
		o.Concurrency = s.Concurrency
	}
	o.SNMPCommunities = s.SNMPCommunities
	if o.Feed, err = kev.Load(s.Feed); err != nil {
		return o, err
	}
	return o, nil
}

func (o *Options) fill() {
	d := DefaultOptions()
	if len(o.TCPPorts) == 0 {
		o.TCPPorts, _ = config.ParsePorts("")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.Rate <= 0 {
		o.Rate = d.Rate
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = d.ConnectTimeout
	}
	if o.BannerWait <= 0 {
		o.BannerWait = d.BannerWait
	}
	if o.Tries <= 0 {
		o.Tries = d.Tries
	}
	if o.Feed == nil {
		o.Feed = kev.Embedded()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
}

// Scan checks every point of reg that asks for a diagnosis (Scan true),
// one address at a time, and returns the report with its findings.
func Scan(ctx context.Context, reg register.Register, o Options) (*Report, error) {
	if err := reg.Validate(); err != nil {
		return nil, err
	}
	o.fill()
	r := &Report{Started: time.Now().UTC(), FeedDate: o.Feed.Date, TCPPorts: portSpec(o.TCPPorts)}
	r.SNMPCommunities = len(o.SNMPCommunities)
	lim := rate.NewLimiter(rate.Limit(o.Rate), o.Concurrency)
	// Addresses are scanned a few at a time: a dropping device is bound
	// by its connect timeouts, not by the rate limit.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	r.Targets = make([]Target, len(reg.Points))
	for i, p := range reg.Points {
		r.Targets[i] = Target{No: i + 1, Point: p}
		if p.Scan {
			r.Targets[i].Hosts = make([]Host, len(p.Addresses()))
		}
	}
	for i, p := range reg.Points {
		if !p.Scan {
			continue
		}
		for j, a := range p.Addresses() {
			if o.Refuse != nil {
				if err := o.Refuse(p.ID, a.Addr); err != nil {
					o.Log.Warn("scan address refused", "id", p.ID, "addr", a.Addr, "err", err)
					r.Targets[i].Hosts[j] = Host{Addr: a.Addr.String(), WAN: a.WAN, NotScanned: msg.TextOf(err)}
					continue
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				o.Log.Info("scan address", "id", p.ID, "addr", a.Addr)
				r.Targets[i].Hosts[j] = scanHost(ctx, p.ID, a, &o, lim)
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, msg.Wrap(err, "調査を中断しました", "scan cancelled")
	}
	r.Finished = time.Now().UTC()
	r.judge(o.Feed, o.Previous)
	return r, nil
}

func scanHost(ctx context.Context, id string, a register.Address, o *Options, lim *rate.Limiter) Host {
	h := Host{Addr: a.Addr.String(), WAN: a.WAN}
	defer func() { o.Progress(Progress{ID: id, Addr: h.Addr, Phase: "done", Open: len(h.Ports)}) }()
	o.Progress(Progress{ID: id, Addr: h.Addr, Phase: "tcp"})
	start := time.Now()
	last := o.Previous.lastTCP(id, h.Addr)
	wasOpen := slices.Sorted(maps.Keys(last))
	tr := scanTCP(ctx, a.Addr, o.TCPPorts, wasOpen, o, lim)
	if !tr.unreachable {
		tr.open = confirmClosed(ctx, a.Addr, wasOpen, tr.open, o, lim)
	}
	h.Unreachable, h.Filtered = tr.unreachable, tr.filtered
	h.TCPSeconds = time.Since(start).Seconds()
	if h.Unreachable {
		return h
	}
	o.Progress(Progress{ID: id, Addr: h.Addr, Phase: "identify", Open: len(tr.open)})
	start = time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	add := func(p Port) {
		mu.Lock()
		h.Ports = append(h.Ports, p)
		mu.Unlock()
	}
	for _, port := range tr.open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var lp *Port
			if q, ok := last[port]; ok {
				lp = &q
			}
			add(identifyAgain(ctx, a.Addr, port, lp, o))
		}()
	}
	var echoed echoes
	for _, pr := range udpProbes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if info, ok := probeUDP(ctx, a.Addr, pr.port, pr.request, echoed.watch(pr.port, pr.parse), o, lim); ok {
				add(Port{Proto: "udp", Port: pr.port, Service: Service{Name: pr.service, Product: info}})
			}
		}()
	}
	for _, community := range o.SNMPCommunities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var id uint32
			req := func(b []byte) []byte { id = binary.BigEndian.Uint32(b) &^ (1 << 31); return snmpRequest(id, community) }
			parse := func(_, reply []byte) (string, error) { return parseSNMP(reply, id, community) }
			if descr, ok := probeUDP(ctx, a.Addr, 161, req, echoed.watch(161, parse), o, lim); ok {
				add(Port{Proto: "udp", Port: 161, Service: Service{Name: "snmp", Product: descr, Banner: "community " + community}})
			}
		}()
	}
	wg.Wait()
	h.Echoed = echoed.list()
	slices.SortFunc(h.Ports, func(x, y Port) int {
		if x.Proto != y.Proto {
			if x.Proto < y.Proto {
				return -1
			}
			return 1
		}
		return x.Port - y.Port
	})
	h.IdentifySeconds = time.Since(start).Seconds()
	return h
}

// identifyAgain identifies port, and once more when the answer is weaker
// than it should be: no known service, or less learnt than in the last
// scan (last, nil if the port was not open then). A lost SYN, or a
// greeting or page slowed by a busy device, must not make a finding vanish
// for one scan ("resolved") and come back the next ("new"). The richer of
// the two answers counts.
func identifyAgain(ctx context.Context, addr netip.Addr, port int, last *Port, o *Options) Port {
	p := identify(ctx, addr, port, o)
	if p.Service.Name != "unknown" && (last == nil || learnt(p) >= learnt(*last)) {
		return p
	}
	if q := identify(ctx, addr, port, o); learnt(q) > learnt(p) {
		return q
	}
	return p
}

// learnt counts what identification found out about a port.
func learnt(p Port) int {
	n := 0
	for _, known := range []bool{p.Service.Name != "" && p.Service.Name != "unknown", p.Service.Product != "", p.Service.Version != ""} {
		if known {
			n++
		}
	}
	if p.HTTP != nil {
		n += 1 + len(p.HTTP.Hints)
		if p.HTTP.Portal != "" {
			n++
		}
	}
	if p.TLS != nil {
		n += 1 + len(p.TLS.Versions)
	}
	return n
}

// probeUDP sends the request twice at most (UDP may be lost) and accepts
// only a reply that parse confirms.
func probeUDP(ctx context.Context, addr netip.Addr, port int, request func([]byte) []byte, parse func(req, reply []byte) (string, error), o *Options, lim *rate.Limiter) (string, bool) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(addr, uint16(port)).String())
	if err != nil {
		return "", false
	}
	defer closeProbe(c)
	id := make([]byte, 8)
	rand.Read(id)
	req := request(id)
	buf := make([]byte, 65535)
	for range 2 {
		if lim.Wait(ctx) != nil {
			return "", false
		}
		if _, err := c.Write(req); err != nil {
			return "", false
		}
		deadline := time.Now().Add(o.BannerWait)
		for {
			if err := c.SetReadDeadline(deadline); err != nil {
				return "", false
			}
			n, err := c.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return "", false // ICMP port unreachable: closed
			}
			if info, err := parse(req, buf[:n]); err == nil {
				return info, true
			}
		}
	}
	return "", false
}

// closeProbe closes a probe's connection or response body. Its error is
// of no use: a probe writes nothing that a failed close could lose, and
// what it read is already its result.
func closeProbe(c io.Closer) { _ = c.Close() }

// portSpec writes ports back as ranges ("1-1024,3389").
func portSpec(ports []int) string {
	var out []byte
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, int64(ports[i]), 10)
		if j > i {
			out = append(out, '-')
			out = strconv.AppendInt(out, int64(ports[j]), 10)
		}
		i = j + 1
	}
	return string(out)
}
