package netprobe_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// TestDeviceVersion scans, in namespaces, a FortiGate lookalike whose SNMP
// agent announces FortiOS's own version string, under registers that leave
// the version blank, get it wrong, or write it in FortiOS's spellings; and
// a Fortinet device that tells nothing.
func TestDeviceVersion(t *testing.T) {
	const descr = "v6.0.11,build0387,200917 (GA)"
	w := newLab(t, 2)
	fgt, quiet := w.Devices[0], w.Devices[1]
	if err := w.SNMPD(fgt.NS, "public", descr); err != nil {
		t.Fatal(err)
	}
	if err := w.Banner(quiet.NS, 23, "\r\nlogin: "); err != nil {
		t.Fatal(err)
	}
	point := func(id, firmware, addr string) register.Point {
		return register.Point{ID: id, Purpose: "SSL-VPN", Scan: true, LineType: register.LineInternet, Maker: "Fortinet", Model: "FortiGate 60E",
			Firmware: firmware, LANAddress: addr}
	}
	reg := register.Register{Points: []register.Point{
		point("CAF00001", "", fgt.LAN.String()),
		point("CAF00002", "v7.4.4", fgt.LAN.String()),
		point("CAF00003", "FortiOS 6.0.11", fgt.LAN.String()),
		point("CAF00004", "V6.0.11", fgt.LAN.String()),
		point("CAF00005", "", quiet.LAN.String()),
	}}
	r, _ := scanLab(t, w, fakeedge.Job{Register: reg, Scan: config.Scan{TCPPorts: "22,23,443", SNMPCommunities: []string{"public"}}})
	at := fgt.LAN.String()
	// FortiOS 6.0.11 is in the ranges of CVE-2019-5591 (before 6.2.0),
	// CVE-2022-42475 (to 6.0.15), CVE-2023-27997 (to 6.0.16) and
	// CVE-2024-21762 (the whole 6.0 train); 7.4.4 only in CVE-2025-59718's.
	cves := []string{"CVE-2019-5591", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}
	where := func(w string, extra ...string) []string {
		var out []string
		for _, c := range cves {
			out = append(out, c+" "+w)
		}
		out = append(out, extra...)
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		t        netprobe.Target
		kev      []string
		differs  bool
		register string
	}{
		{r.Targets[0], where(at), false, ""},
		{r.Targets[1], where(at, "CVE-2025-59718 register"), true, "v7.4.4"},
		{r.Targets[2], where("register"), false, "FortiOS 6.0.11"},
		{r.Targets[3], where("register"), false, "V6.0.11"},
	} {
		if got := kevFindings(tc.t); !slices.Equal(got, tc.kev) {
			t.Errorf("register %q: KEV %q, want %q", tc.register, got, tc.kev)
		}
		fw := findings(tc.t, netprobe.RuleFirmware)
		if tc.differs != (len(fw) == 1) || len(fw) > 1 || (tc.differs && (!fw[0].Caution || !strings.Contains(fw[0].EN, "SNMP sysDescr ("+at+" 161/udp)"))) {
			t.Errorf("register %q: firmware differs %+v", tc.register, fw)
		}
		for _, f := range findings(tc.t, netprobe.RuleKEV) {
			// The announced version's findings, and the register's where the
			// device agrees, say where the version came from.
			if (f.Addr != "" || !tc.differs) && !strings.Contains(f.EN, "SNMP sysDescr ("+at+" 161/udp)") {
				t.Errorf("register %q: KEV finding does not name the SNMP sysDescr: %s", tc.register, f.EN)
			}
		}
		if u := findings(tc.t, netprobe.RuleVersionUnknown); len(u) != 0 {
			t.Errorf("register %q: version unknown %+v", tc.register, u)
		}
	}
	u := findings(r.Targets[4], netprobe.RuleVersionUnknown)
	if len(u) != 1 || !u[0].Caution || !strings.Contains(u[0].EN, "version unknown: known-exploited vulnerabilities not checked") {
		t.Errorf("silent Fortinet device: %+v", r.Targets[4].Findings)
	}
	if len(findings(r.Targets[4], netprobe.RuleKEV)) != 0 {
		t.Errorf("silent Fortinet device has KEV findings: %+v", r.Targets[4].Findings)
	}
}
