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

// TestCoverageFakeEdge scans the fake edge without an SNMP community and
// with a FortiGate whose register line has no firmware: every row must say
// what was checked and what could not be (the ASA's UDP echo, SNMP not
// asked, the FortiGate's unknown version, the KEV entries not judged, an
// unreachable line, a line without address), and the row's findings must
// run from the known-exploited ones down to the statement.
func TestCoverageFakeEdge(t *testing.T) {
	w, reg := edgeLab(t)
	reg.Points[0].Firmware = "" // the portal shows only a build date
	reg.Points = append(reg.Points, register.Point{ID: "CAF00005", Purpose: "停止中の回線", Scan: true,
		LineType: register.LineInternet, LANAddress: "10.255.255.99"})
	r, _ := scanLab(t, w, fakeedge.Job{Register: reg, Scan: config.Scan{TCPPorts: "1-1024,3389,8080"}})
	lines := func(i int) []string {
		var out []string
		for _, f := range findings(r.Targets[i], netprobe.RuleCoverage) {
			out = append(out, f.EN)
		}
		return out
	}
	want := map[int][]string{
		0: {"checked: TCP 1-1024,3389,8080 (2 of 2 addresses reached)", "could not be checked: SNMP not asked (no community configured)",
			"could not be checked: version unknown: known-exploited vulnerabilities not checked",
			"could not be checked: CVE-2021-44168, CVE-2022-41328 not judged: exploitable only locally"},
		1: {"(1 of 1 addresses reached)", "known-exploited check: not a product the feed covers"},
		2: {"could not be checked: " + r.Targets[2].Hosts[0].Addr + ": UDP 500 answered with an echo of the probe",
			"known-exploited feed of " + r.FeedDate + " against version 9.16(4)57, " + fakeedge.ASAVersion,
			"could not be checked: CVE-2016-6367, CVE-2024-20359 not judged: exploitable only locally"},
		3: {"coverage: not scanned (nothing was checked)"},
		4: {"(0 of 1 addresses reached)", "could not be checked: 10.255.255.99 unreachable: nothing could be checked"},
	}
	for i, subs := range want {
		got := lines(i)
		for _, sub := range subs {
			if !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, sub) }) {
				t.Errorf("%s coverage lacks %q:\n%s", r.Targets[i].Point.ID, sub, strings.Join(got, "\n"))
			}
		}
	}
	// The ASA's row: known-exploited first (each with the way out of its
	// train and the compromise check), then RDP's exposure, the statement
	// last.
	asa := r.Targets[2].Findings
	var order []string
	for _, f := range asa {
		if len(order) == 0 || order[len(order)-1] != f.Rule {
			order = append(order, f.Rule)
		}
	}
	if len(order) < 3 || order[0] != netprobe.RuleKEV || order[len(order)-1] != netprobe.RuleCoverage ||
		slices.Index(order, netprobe.RuleRemote) < slices.Index(order, netprobe.RuleFirmware) {
		t.Errorf("ASA findings in order %q", order)
	}
	for _, f := range findings(r.Targets[2], netprobe.RuleKEV) {
		if !strings.Contains(f.EN, "check the device for compromise following the vendor's guidance") ||
			!strings.Contains(f.EN, "the train of 9.16(4)") {
			t.Errorf("ASA KEV finding without its way out: %s", f.EN)
		}
	}
}
