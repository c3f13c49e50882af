package netprobe

import (
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// coverageLines are t's coverage statements in English.
func coverageLines(t Target) []string {
	var out []string
	for _, f := range t.Findings {
		if f.Rule == RuleCoverage {
			out = append(out, f.EN)
		}
	}
	return out
}

func hasLine(lines []string, sub string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, sub) })
}

// TestCoverage: every row says what was checked and what could not be:
// unreachable, all filtered, UDP echoes, SNMP not asked, no version, and
// the vendor's KEV entries the feed does not judge. A row with nothing
// open is never a row with nothing said.
func TestCoverage(t *testing.T) {
	fgt := register.Point{ID: "CAF00001", Maker: "Fortinet", Model: "FortiGate 60E", Firmware: "v6.0.11,build0387,200917 (GA)", LANAddress: "10.0.0.1", Scan: true}
	vpn := register.Point{ID: "CAF00002", Maker: "Fortinet", Model: "FortiGate 40F", LANAddress: "10.0.0.2", Scan: true}
	router := register.Point{ID: "CAF00003", Maker: "Yamaha", Model: "RTX1210", LANAddress: "10.0.0.3", Scan: true}
	r := &Report{TCPPorts: "1-65535", Targets: []Target{
		{No: 1, Point: fgt, Hosts: []Host{{Addr: "10.0.0.1", Ports: []Port{{Proto: "tcp", Port: 443}}, Echoed: []int{161, 500}}}},
		{No: 2, Point: vpn, Hosts: []Host{{Addr: "10.0.0.2", Filtered: 65535}}},
		{No: 3, Point: router, Hosts: []Host{{Addr: "10.0.0.3", Unreachable: true}}},
		{No: 4, Point: register.Point{ID: "CAF00004", Scan: true}},
		{No: 5, Point: register.Point{ID: "CAF00005", LANAddress: "10.0.0.5"}},
	}}
	r.judge(kev.Embedded(), nil)

	c := coverageLines(r.Targets[0])
	for _, want := range []string{
		"checked: TCP 1-65535 (1 of 1 addresses reached); UDP IKE, IKE NAT-T, NTP, DNS, SSDP; known-exploited feed of " + kev.Embedded().Date + " against version v6.0.11,build0387,200917 (GA)",
		"could not be checked: 10.0.0.1: UDP 161, 500 answered with an echo of the probe",
		"could not be checked: SNMP not asked (no community configured)",
		"could not be checked: CVE-2021-44168, CVE-2022-41328 not judged: exploitable only locally",
		"could not be checked: CVE-2018-13374 not judged: its affected releases have not been checked yet",
	} {
		if !hasLine(c, want) {
			t.Errorf("FortiGate coverage lacks %q:\n%s", want, strings.Join(c, "\n"))
		}
	}
	if last := r.Targets[0].Findings[len(r.Targets[0].Findings)-1]; last.Rule != RuleCoverage {
		t.Errorf("the coverage statement should close the row, last is %+v", last)
	}
	c = coverageLines(r.Targets[1])
	for _, want := range []string{"(1 of 1 addresses reached)", "10.0.0.2: every port silent", "version unknown: known-exploited vulnerabilities not checked"} {
		if !hasLine(c, want) {
			t.Errorf("silent FortiGate coverage lacks %q:\n%s", want, strings.Join(c, "\n"))
		}
	}
	c = coverageLines(r.Targets[2])
	for _, want := range []string{"(0 of 1 addresses reached)", "10.0.0.3 unreachable: nothing could be checked", "known-exploited check: not a product the feed covers"} {
		if !hasLine(c, want) {
			t.Errorf("router coverage lacks %q:\n%s", want, strings.Join(c, "\n"))
		}
	}
	for _, i := range []int{3, 4} {
		if c := coverageLines(r.Targets[i]); len(c) != 1 || !strings.Contains(c[0], "not scanned (nothing was checked)") {
			t.Errorf("target %d coverage: %q", i+1, c)
		}
	}
	// With a community configured, SNMP counts as checked.
	r2 := &Report{TCPPorts: "1-1024", SNMPCommunities: 2, Targets: []Target{{No: 1, Point: router, Hosts: []Host{{Addr: "10.0.0.3"}}}}}
	r2.judge(kev.Embedded(), nil)
	if c := coverageLines(r2.Targets[0]); !hasLine(c, "SNMP (2 communities)") || hasLine(c, "SNMP not asked") || !hasLine(c, "could not be checked: nothing") {
		t.Errorf("router with SNMP: %q", c)
	}
}

// TestKEVWeightAndFix: on the lab's FortiOS 6.0.11 the KEV findings come
// first, ransomware-used and pre-authentication RCE ahead of the rest,
// then exposure, then configuration; each names the way out of its train
// and the compromise check.
func TestKEVWeightAndFix(t *testing.T) {
	p := register.Point{ID: "CAF00001", Maker: "Fortinet", Model: "FortiGate 60E", Firmware: "6.0.11", LANAddress: "10.0.0.1", GlobalIP: "203.0.113.1", Scan: true}
	r := &Report{TCPPorts: "1-65535", Targets: []Target{{No: 1, Point: p, Hosts: []Host{{Addr: "203.0.113.1", WAN: true, Ports: []Port{
		{Proto: "tcp", Port: 22, Service: Service{Name: "ssh", Product: "OpenSSH"}},
		{Proto: "tcp", Port: 443, TLS: &TLSInfo{Versions: []string{"TLS1.0", "TLS1.2"}, KeyType: "ECDSA"}},
	}}}}}}
	r.judge(kev.Embedded(), nil)
	fs := r.Targets[0].Findings
	var rules []string
	for _, f := range fs {
		if len(rules) == 0 || rules[len(rules)-1] != f.Rule {
			rules = append(rules, f.Rule)
		}
	}
	if want := []string{RuleKEV, RuleMgmtWAN, RuleOldTLS, RuleInfo, RuleCoverage}; !slices.Equal(rules, want) {
		t.Errorf("order of rules %q, want %q", rules, want)
	}
	heavy := true
	for _, f := range fs {
		if f.Rule != RuleKEV {
			continue
		}
		w := weight(f) == 0
		if w && !heavy {
			t.Errorf("%s (ransomware or pre-auth RCE) after a lighter KEV finding", f.CVE)
		}
		heavy = w
		if !strings.Contains(f.EN, "check the device for compromise following the vendor's guidance") ||
			!strings.Contains(f.JA, "侵害されていないか") {
			t.Errorf("%s lacks the compromise check: %s", f.CVE, f.EN)
		}
		switch f.CVE {
		case "CVE-2024-21762": // FortiOS 6.0 was never fixed
			if !strings.Contains(f.EN, "the train of 6.0.11 has no fix: move to a supported train") ||
				!strings.Contains(f.EN, "known to be used in ransomware campaigns") {
				t.Errorf("CVE-2024-21762: %s", f.EN)
			}
		case "CVE-2019-5591": // "6.2.0 and earlier": 6.0 has no fix of its own
			if !strings.Contains(f.EN, "the train of 6.0.11 has no fix: move to a supported release after 6.2.0") {
				t.Errorf("CVE-2019-5591: %s", f.EN)
			}
		case "CVE-2023-27997": // 6.0.0–6.0.16
			if !strings.Contains(f.EN, "the train of 6.0.11 is fixed in the releases after 6.0.16") {
				t.Errorf("CVE-2023-27997: %s", f.EN)
			}
		}
	}
	if i := slices.IndexFunc(fs, func(f Finding) bool { return f.CVE == "CVE-2024-21762" }); i < 0 || weight(fs[i]) != 0 {
		t.Errorf("CVE-2024-21762 missing or light: %+v", fs)
	}
}

func TestOrderFindings(t *testing.T) {
	fs := []Finding{
		{Rule: RuleInfo, Text: msg.Plain("a")},
		{Rule: RuleCoverage, Text: msg.Plain("b")},
		{Rule: RuleOldTLS, Caution: true},
		{Rule: RuleRemote, Caution: true},
		{Rule: RuleKEV, Caution: true, CVE: "CVE-2024-23113"}, // pre-auth RCE, ransomware use unknown
		{Rule: RuleKEV, Caution: true, CVE: "CVE-2025-59718"},
		{Rule: RuleKEV, Caution: true, CVE: "CVE-2024-21762"},
		{Rule: RuleFirmware, Caution: true},
		{Rule: RuleInfo, Text: msg.Plain("c")},
	}
	orderFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.Rule+" "+f.CVE+f.EN)
	}
	want := []string{"known_exploited CVE-2024-23113", "known_exploited CVE-2024-21762", "known_exploited CVE-2025-59718",
		"firmware_differs ", "remote_access ", "old_tls ", "info a", "info c", "coverage b"}
	if !slices.Equal(got, want) {
		t.Errorf("order\n%q, want\n%q", got, want)
	}
}
