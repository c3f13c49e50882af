// Command scan benchmarks danzen's WAN-edge scan (netprobe) against nmap on
// the same fake edge devices (netprobe/fakeedge: network namespaces with
// no default route, scanner inside one of them), in one run:
//
//   - full TCP scan: danzen's connect scan of all 65,535 ports against
//     nmap -sT -p- (target: danzen ≤ 0.5× nmap's time);
//   - identification: danzen's service, TLS and UDP identification against
//     nmap -sV on the open ports nmap found (target: ≥ 10× faster, with
//     the same open ports and service names);
//   - the scanner process's peak RSS (target: ≤ 30 MiB);
//   - the lossy case: the same again with 10% of the SYNs each device
//     receives dropped at random (nft numgen): every open port of the
//     clean scan found, no change reported against it, and the full TCP
//     scan still ≤ 0.5× nmap -sT's time on the same lossy edge.
//
// It is a benchmark, not a test: it prints the figures with PASS/MISS and
// exits 0 either way. Run as root with nmap, snmpd, nftables and sshd
// installed: `go run ./bench/scan`. It takes about as long as nmap does
// (a few minutes: nmap waits on the device that drops packets), and the
// lossy case up to ten minutes more (nmap is stopped there).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
	"github.com/danzen-gw/danzen/netprobe/register"
)

func main() {
	fakeedge.RunChild() // this binary, re-run inside the scanner's namespace
	skipSV := flag.Bool("skip-sv", false, "skip nmap -sV (the slow part)")
	flag.Parse()
	if err := run(*skipSV); err != nil {
		fmt.Fprintln(os.Stderr, "bench/scan:", err)
		os.Exit(1)
	}
}

func run(skipSV bool) error {
	dir, err := os.MkdirTemp("", "danzen-bench-scan-")
	if err != nil {
		return err
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "bench/scan: removing the scratch directory:", err)
		}
	}()
	w, reg, err := fakeedge.Edge(dir)
	if err != nil {
		return err
	}
	defer w.Close()
	var targets []string
	for _, p := range reg.Points {
		for _, a := range p.Addresses() {
			targets = append(targets, a.Addr.String())
		}
	}
	ctx := context.Background()
	fmt.Printf("targets: %s (device 1 drops all but 2 TCP ports)\n\n", strings.Join(targets, " "))

	d, err := danzenScan(ctx, w, reg, nil)
	if err != nil {
		return err
	}
	nmapST, nmapOpen, err := nmapConnectScan(ctx, w, targets)
	if err != nil {
		return err
	}
	fmt.Printf("open TCP ports: same as nmap: %v\n\n", sameOpenPorts(targets, d.open, nmapOpen))
	fmt.Printf("full TCP scan: danzen %.1f s / nmap -sT %.1f s = %.2f× (target ≤ 0.5×) %s\n",
		d.tcpWall, nmapST, d.tcpWall/nmapST, verdict(d.tcpWall <= 0.5*nmapST))
	if !skipSV {
		if err := nmapServiceScan(ctx, w, nmapOpen, d); err != nil {
			return err
		}
	}
	fmt.Printf("scanner peak RSS: %.1f MiB (target ≤ 30 MiB) %s\n\n", float64(d.maxRSS)/(1<<20), verdict(d.maxRSS <= 30<<20))
	return lossyCase(ctx, w, reg, targets, d)
}

// lossyCase drops 10% of the SYNs on every device and scans again with
// both scanners: the open ports must be those of the clean scan (clean),
// with no change reported against it.
func lossyCase(ctx context.Context, w *fakeedge.World, reg register.Register, targets []string, clean danzenFigures) error {
	for _, dev := range w.Devices {
		if err := w.Loss(dev.NS, 10); err != nil {
			return err
		}
	}
	fmt.Println("lossy case: 10% of SYNs dropped on every device")
	d, err := danzenScan(ctx, w, reg, clean.report)
	if err != nil {
		return err
	}
	ch := d.report.Changes
	changes := len(ch.Opened) + len(ch.Closed) + len(ch.NewCautions) + len(ch.Resolved)
	fmt.Printf("lossy: danzen open TCP ports same as the clean scan: %s\n", verdict(sameOpenPorts(targets, d.open, clean.open)))
	fmt.Printf("lossy: changes reported against the clean scan: %d %s\n", changes, verdict(changes == 0))
	// nmap slows down a great deal on loss: it is given ten minutes.
	const nmapLimit = 10 * time.Minute
	nctx, cancel := context.WithTimeout(ctx, nmapLimit)
	defer cancel()
	nmapST, nmapOpen, err := nmapConnectScan(nctx, w, targets)
	if nctx.Err() != nil {
		fmt.Printf("lossy full TCP scan: danzen %.1f s / nmap -sT > %.0f s (stopped) < %.2f× (target ≤ 0.5×) %s\n",
			d.tcpWall, nmapLimit.Seconds(), d.tcpWall/nmapLimit.Seconds(), verdict(d.tcpWall <= 0.5*nmapLimit.Seconds()))
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Printf("lossy: nmap open TCP ports same as danzen's clean scan: %v\n", sameOpenPorts(targets, nmapOpen, clean.open))
	fmt.Printf("lossy full TCP scan: danzen %.1f s / nmap -sT %.1f s = %.2f× (target ≤ 0.5×) %s\n",
		d.tcpWall, nmapST, d.tcpWall/nmapST, verdict(d.tcpWall <= 0.5*nmapST))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// danzenFigures is what danzen's scan of the edge took and found.
type danzenFigures struct {
	tcpWall, identWall float64             // the slowest address's seconds
	open               map[string][]string // addr → "port service (product)"
	maxRSS             int64
	report             *netprobe.Report
}

// danzenScan runs danzen's scan in the scanner's namespace (against prev,
// if given) and prints each address's times and ports.
func danzenScan(ctx context.Context, w *fakeedge.World, reg register.Register, prev *netprobe.Report) (danzenFigures, error) {
	res, err := w.Scan(ctx, fakeedge.Job{Register: reg, Scan: config.Scan{SNMPCommunities: []string{"public"}}, Previous: prev})
	if err != nil {
		return danzenFigures{}, err
	}
	d := danzenFigures{open: map[string][]string{}, maxRSS: res.MaxRSS, report: res.Report}
	for _, t := range res.Report.Targets {
		for _, h := range t.Hosts {
			d.tcpWall = max(d.tcpWall, h.TCPSeconds)
			d.identWall = max(d.identWall, h.IdentifySeconds)
			for _, p := range h.Ports {
				if p.Proto == "tcp" {
					d.open[h.Addr] = append(d.open[h.Addr], strings.Replace(p.String(), "/tcp", "", 1))
				}
			}
			fmt.Printf("danzen %-12s tcp %5.1f s  identify %4.1f s  %s\n", h.Addr, h.TCPSeconds, h.IdentifySeconds, portsLine(h))
		}
	}
	fmt.Printf("danzen whole scan (process start to report): %.1f s, peak RSS %.1f MiB, 注意 %d\n\n",
		res.Elapsed.Seconds(), float64(res.MaxRSS)/(1<<20), res.Report.Cautions())
	return d, nil
}

// nmapConnectScan runs nmap -sT over all ports of targets and returns its
// seconds and open ports.
func nmapConnectScan(ctx context.Context, w *fakeedge.World, targets []string) (float64, map[string][]string, error) {
	start := time.Now()
	out, err := fakeedge.Command(ctx, w.Scanner, "nmap", append([]string{"-sT", "-p-", "-n", "-Pn", "-oG", "-"}, targets...)...).Output()
	if err != nil {
		return 0, nil, fmt.Errorf("nmap -sT: %w", err)
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("nmap -sT -p-: %.1f s\n", secs)
	return secs, grepable(out), nil
}

// sameOpenPorts compares the open TCP ports two scans found (danzen's
// "22 ssh (…)" or nmap's "22/ssh …"), printing where they differ.
func sameOpenPorts(targets []string, first, second map[string][]string) bool {
	same := true
	for _, a := range targets {
		fp, sp := portNumbers(first[a]), portNumbers(second[a])
		if !slices.Equal(fp, sp) {
			same = false
			fmt.Printf("  open ports differ on %s: %v, %v\n", a, fp, sp)
		}
	}
	return same
}

// portNumbers takes the leading port number of each entry.
func portNumbers(entries []string) []string {
	var out []string
	for _, s := range entries {
		out = append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '/' })[0])
	}
	return out
}

// nmapServiceScan runs nmap -sV on the open ports nmap found, the hosts in
// parallel, and sets its time against danzen's identification.
func nmapServiceScan(ctx context.Context, w *fakeedge.World, nmapOpen map[string][]string, d danzenFigures) error {
	start := time.Now()
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for a, ports := range nmapOpen {
		var ps []string
		for _, s := range ports {
			ps = append(ps, strings.SplitN(s, "/", 2)[0])
		}
		c := fakeedge.Command(ctx, w.Scanner, "nmap", "-sV", "-n", "-Pn", "-p", strings.Join(ps, ","), "-oG", "-", a)
		b := &strings.Builder{}
		c.Stdout = b
		if err := c.Start(); err != nil {
			return err
		}
		cmds, outs = append(cmds, c), append(outs, b)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			return fmt.Errorf("nmap -sV: %w", err)
		}
	}
	nmapSV := time.Since(start).Seconds()
	fmt.Printf("nmap -sV on the open ports (hosts in parallel): %.1f s\n", nmapSV)
	for _, b := range outs {
		for a, ps := range grepable([]byte(b.String())) {
			fmt.Printf("  nmap   %-12s %s\n", a, strings.Join(ps, ", "))
			fmt.Printf("  danzen %-12s %s\n", a, strings.Join(d.open[a], ", "))
		}
	}
	fmt.Printf("identification: nmap -sV %.1f s / danzen %.1f s = %.1f× faster (target ≥ 10×) %s\n",
		nmapSV, d.identWall, nmapSV/d.identWall, verdict(nmapSV >= 10*d.identWall))
	return nil
}

func portsLine(h netprobe.Host) string {
	var s []string
	for _, p := range h.Ports {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

var gPorts = regexp.MustCompile(`^Host: (\S+) .*\tPorts: (.*?)(\t|$)`)

// grepable reads nmap -oG output: addr → "port/service/version" of open TCP ports.
func grepable(out []byte) map[string][]string {
	m := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		g := gPorts.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		for _, p := range strings.Split(g[2], ", ") {
			f := strings.Split(p, "/")
			if len(f) < 7 || f[1] != "open" || f[2] != "tcp" {
				continue
			}
			if _, err := strconv.Atoi(f[0]); err == nil {
				m[g[1]] = append(m[g[1]], f[0]+"/"+f[4]+" "+f[6])
			}
		}
	}
	return m
}
