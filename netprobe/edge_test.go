package netprobe_test

import (
	"cmp"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
	"github.com/danzen-gw/danzen/netprobe/register"
)

func TestMain(m *testing.M) {
	fakeedge.RunChild() // the scanner process inside the namespace
	os.Exit(m.Run())
}

func findings(t netprobe.Target, rule string) []netprobe.Finding {
	var out []netprobe.Finding
	for _, f := range t.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// kevFindings lists the known_exploited findings of t as "CVE where": the
// address whose portal announced the version, or "register".
func kevFindings(t netprobe.Target) []string {
	var out []string
	for _, f := range findings(t, netprobe.RuleKEV) {
		out = append(out, f.CVE+" "+cmp.Or(f.Addr, "register"))
	}
	slices.Sort(out)
	return out
}

func port(h netprobe.Host, proto string, n int) *netprobe.Port {
	for i, p := range h.Ports {
		if p.Proto == proto && p.Port == n {
			return &h.Ports[i]
		}
	}
	return nil
}

// TestScanFakeEdge scans the fake edge from inside its namespace: every
// fake must be identified as what it is, the echoes must not count, the
// dropping device must be done in bounded time, and each 注意 rule must
// fire where it should.
func TestScanFakeEdge(t *testing.T) {
	w, reg := edgeLab(t)
	// A line whose device has no route from the scanner: reported as
	// unreachable, never as clean.
	reg.Points = append(reg.Points, register.Point{ID: "CAF00005", Purpose: "停止中の回線", Scan: true,
		LineType: register.LineInternet, LANAddress: "192.0.2.99"})
	ctx := context.Background()
	r, res := scanLab(t, w, fakeedge.Job{Register: reg, Scan: config.Scan{SNMPCommunities: []string{"public"}}})
	t.Logf("scan took %v, scanner max RSS %.1f MiB", res.Elapsed, float64(res.MaxRSS)/(1<<20))
	if len(r.Targets) != 5 || r.FeedDate == "" || r.TCPPorts != "1-65535" {
		t.Fatalf("report header: %d targets, feed %q, ports %q", len(r.Targets), r.FeedDate, r.TCPPorts)
	}

	fgt := r.Targets[0]
	if len(fgt.Hosts) != 2 || !fgt.Hosts[1].WAN {
		t.Fatalf("FortiGate hosts: %+v", fgt.Hosts)
	}
	for _, h := range fgt.Hosts {
		var open []int
		for _, p := range h.Ports {
			open = append(open, p.Port)
		}
		if !slices.Equal(open, []int{22, 443}) {
			t.Errorf("%s open %v, want [22 443] (the UDP echo on 500 is not IKE)", h.Addr, open)
		}
		if h.Filtered < 60000 {
			t.Errorf("%s: %d filtered ports; the drop policy should hide almost all", h.Addr, h.Filtered)
		}
		if h.TCPSeconds > 60 {
			t.Errorf("%s: TCP scan of a dropping device took %.0f s", h.Addr, h.TCPSeconds)
		}
		https := port(h, "tcp", 443)
		if https == nil || https.HTTP == nil || https.HTTP.Portal != "FortiGate SSL-VPN" || https.HTTP.Server != "xxxxxxxx-xxxxx" ||
			https.HTTP.Title != "FortiGate SSL VPN" || len(https.HTTP.Redirects) != 1 {
			t.Errorf("%s 443: %+v", h.Addr, https)
		} else if tl := https.TLS; !slices.Equal(tl.Versions, []string{"TLS1.0", "TLS1.1", "TLS1.2"}) || tl.KeyBits != 1024 || !tl.SelfSigned || !tl.VendorDefault {
			t.Errorf("%s TLS: %+v", h.Addr, tl)
		}
		if s := port(h, "tcp", 22); s == nil || s.Service.Name != "ssh" || s.Service.Product != "OpenSSH" {
			t.Errorf("%s 22: %+v", h.Addr, s)
		}
		// FortiOS states no version: its hint is a build date only.
		if https != nil && https.HTTP != nil && (len(https.HTTP.Hints) != 1 || https.HTTP.Hints[0].BuildDate != fakeedge.FortiBuildTime.Format("2006-01-02") ||
			https.HTTP.Hints[0].Version != "" || https.Service.Version != "") {
			t.Errorf("%s 443 hints: %+v", h.Addr, https.HTTP.Hints)
		}
	}
	// The register's FortiOS 7.2.5 (the portal gives only a build date):
	// FG-IR-24-015 and FG-IR-24-029 reach 7.2.6, FG-IR-25-647 7.2.11,
	// FG-IR-23-097 ended at 7.2.4.
	if got, want := kevFindings(fgt), []string{"CVE-2024-21762 register", "CVE-2024-23113 register", "CVE-2025-59718 register"}; !slices.Equal(got, want) {
		t.Errorf("FortiGate known exploited %q, want %q", got, want)
	}
	if old := findings(fgt, netprobe.RuleOldTLS); len(old) != 2 {
		t.Errorf("old TLS findings: %+v", old)
	}
	if m := findings(fgt, netprobe.RuleMgmtWAN); len(m) != 1 || m[0].Port != 22 || m[0].Addr != "203.0.113.1" {
		t.Errorf("management on WAN: %+v", m)
	}

	rtx := r.Targets[1]
	h := rtx.Hosts[0]
	if tel := port(h, "tcp", 23); tel == nil || tel.Service.Product != "Yamaha RTX1210" || tel.Service.Version != "14.01.38" {
		t.Errorf("telnet: %+v", tel)
	}
	if snmp := port(h, "udp", 161); snmp == nil || snmp.Service.Product != fakeedge.SNMPDescr {
		t.Errorf("snmp: %+v", snmp)
	}
	if dns := port(h, "udp", 53); dns == nil || dns.Service.Name != "dns" || !strings.HasPrefix(dns.Service.Product, "dnsmasq-") {
		t.Errorf("dns: %+v", dns)
	}
	for _, rule := range []string{netprobe.RuleRemote, netprobe.RuleSNMPDefault, netprobe.RuleFirmware} {
		if len(findings(rtx, rule)) != 1 {
			t.Errorf("router: want one %s finding, got %+v", rule, rtx.Findings)
		}
	}

	box := r.Targets[2]
	h = box.Hosts[0]
	if len(h.Ports) != 2 || h.Ports[0].Port != 443 || h.Ports[1].Port != 3389 || h.Ports[1].Proto != "tcp" {
		t.Errorf("box ports %+v: the UDP echoes on 161 and 500 must not count", h.Ports)
	}
	if len(findings(box, netprobe.RuleRemote)) != 1 {
		t.Errorf("RDP not flagged: %+v", box.Findings)
	}
	// The ASA's portal states its version: it is found, its known
	// exploited ranges raise 注意, and the register's different firmware is
	// flagged. The register's 9.16(4)57 is past CVE-2024-20353 (9.16(4)55)
	// but not the 2025 WebVPN pair (9.16(4)84), so both claims count.
	if asa := port(h, "tcp", 443); asa == nil || asa.HTTP == nil || asa.HTTP.Portal != "Cisco ASA WebVPN" || asa.Service.Version != fakeedge.ASAVersion ||
		len(asa.HTTP.Hints) != 1 || !asa.HTTP.Hints[0].Exact || asa.HTTP.Hints[0].Source != "/CSCOSSLC/config-auth" || asa.HTTP.Hints[0].Confidence != netprobe.ConfidenceHigh {
		t.Errorf("ASA portal: %+v", asa)
	}
	if got, want := kevFindings(box), []string{"CVE-2024-20353 10.231.3.2", "CVE-2025-20333 10.231.3.2", "CVE-2025-20333 register",
		"CVE-2025-20362 10.231.3.2", "CVE-2025-20362 register"}; !slices.Equal(got, want) {
		t.Errorf("ASA known exploited %q, want %q", got, want)
	}
	for _, k := range findings(box, netprobe.RuleKEV) {
		if k.CVE == "CVE-2024-20353" && (!k.Caution ||
			!strings.Contains(k.JA, "SSL-VPN ポータル（10.231.3.2 443/tcp /CSCOSSLC/config-auth）が示す版 "+fakeedge.ASAVersion) ||
			!strings.Contains(k.EN, "announces "+fakeedge.ASAVersion) || !strings.Contains(k.EN, "vendor advisory: cisco-sa-asaftd-websrvs-dos-X8gNucD2; the train of 9.16(4)48 is fixed in the releases after 9.16(4)55")) {
			t.Errorf("ASA KEV from the announced version: %+v", k)
		}
	}
	if fw := findings(box, netprobe.RuleFirmware); len(fw) != 1 || !fw[0].Caution ||
		!strings.Contains(fw[0].JA, fakeedge.ASAVersion+" が台帳の版 9.16(4)57 と異なります") {
		t.Errorf("ASA firmware differs: %+v", fw)
	}
	if f := findings(r.Targets[3], netprobe.RuleInfo); len(f) != 1 || !strings.Contains(f[0].JA, "調査不可") {
		t.Errorf("line without address: %+v", f)
	}
	if h := r.Targets[4].Hosts; len(h) != 1 || !h[0].Unreachable || len(findings(r.Targets[4], netprobe.RuleInfo)) != 1 ||
		!strings.Contains(r.Targets[4].Findings[0].JA, "到達できません") {
		t.Errorf("unreachable line: %+v", r.Targets[4])
	}
	rows := r.Rows()
	if rows[0].Attention != "注意" || rows[3].Attention != "-" || rows[3].Addresses != "調査不可 (IPアドレス不明)" {
		t.Errorf("rows: %+v", rows)
	}

	// A second scan after a management page appears on the box.
	if err := w.HTTPLogin(w.Devices[2].NS, 8080); err != nil {
		t.Fatal(err)
	}
	res2, err := w.Scan(ctx, fakeedge.Job{Register: reg, Scan: config.Scan{TCPPorts: "1-10000", SNMPCommunities: []string{"public"}}, Previous: r})
	if err != nil {
		t.Fatal(err)
	}
	r2 := res2.Report
	if n := findings(r2.Targets[2], netprobe.RuleNewlyOpen); len(n) != 1 || n[0].Port != 8080 {
		t.Errorf("newly open: %+v", r2.Targets[2].Findings)
	}
	d := r2.Changes
	if d == nil || !slices.Equal(d.Opened, []string{"CAF00003 10.231.3.2 8080/tcp"}) || len(d.Closed) != 0 || len(d.NewCautions) != 1 || len(d.Resolved) != 0 {
		t.Errorf("diff: %+v", d)
	}
	if r2.Cautions() != r.Cautions()+1 {
		t.Errorf("cautions %d then %d", r.Cautions(), r2.Cautions())
	}
	t.Logf("cautions: %d; identify FortiGate LAN %.1f s", r.Cautions(), fgt.Hosts[0].IdentifySeconds)
}
