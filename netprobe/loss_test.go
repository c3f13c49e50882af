package netprobe_test

import (
	"context"
	"slices"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
)

// TestScanLossyEdge scans the fake edge five times in a row with 10% of
// the SYNs each device receives dropped at random: every open port must be
// found in every run, and no run may report a change, a new 注意 or a
// resolved one, or raise an alert (issue 19: a lost SYN lost the port).
func TestScanLossyEdge(t *testing.T) {
	w, reg := edgeLab(t)
	d2, d3 := w.Devices[1], w.Devices[2]
	// An SSL-VPN on its usual 10443, and a port on no well-known list:
	// that one is retried only because the device shows loss.
	if err := w.Banner(d3.NS, 10443, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Banner(d2.NS, 47001, ""); err != nil {
		t.Fatal(err)
	}
	for _, d := range w.Devices {
		if err := w.Loss(d.NS, 10); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]int{
		"10.231.1.2": {22, 443}, "203.0.113.1": {22, 443},
		"10.231.2.2": {23, 53, 199, 47001}, // 199: snmpd's SMUX
		"10.231.3.2": {443, 3389, 10443},
	}
	// Not all 65,535 ports: five full scans take three minutes, and the
	// dropping device behaves the same on 11,001 (bench/scan does the
	// full range).
	scan := config.Scan{TCPPorts: "1-11000,47001", SNMPCommunities: []string{"public"}}
	var prev *netprobe.Report
	for run := 1; run <= 5; run++ {
		res, err := w.Scan(context.Background(), fakeedge.Job{Register: reg, Scan: scan, Previous: prev})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		var slowest float64
		for _, tg := range r.Targets {
			for _, h := range tg.Hosts {
				slowest = max(slowest, h.TCPSeconds)
				var open []int
				for _, p := range h.Ports {
					if p.Proto == "tcp" {
						open = append(open, p.Port)
					}
				}
				if !slices.Equal(open, want[h.Addr]) {
					t.Errorf("run %d: %s open %v, want %v", run, h.Addr, open, want[h.Addr])
				}
			}
		}
		t.Logf("run %d: whole scan %.1f s, slowest TCP phase %.1f s", run, res.Elapsed.Seconds(), slowest)
		if prev != nil {
			if d := r.Changes; d == nil || len(d.Opened)+len(d.Closed)+len(d.NewCautions)+len(d.Resolved) != 0 {
				t.Errorf("run %d: false change %+v", run, d)
			}
			if a := r.Alerts("gw"); len(a) != 0 {
				t.Errorf("run %d: alerts %+v", run, a)
			}
		}
		prev = r
	}
}
