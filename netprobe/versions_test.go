package netprobe

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// fortiSysDescr is what the lab FortiGate answered over SNMP.
const fortiSysDescr = "v6.0.11,build0387,200917 (GA)"

func judgeOne(t *testing.T, p register.Point, hosts ...Host) Target {
	t.Helper()
	r := &Report{Targets: []Target{{No: 1, Point: p, Hosts: hosts}}}
	r.judge(kev.Embedded(), nil)
	return r.Targets[0]
}

func ruleFindings(t Target, rule string) []Finding {
	var out []Finding
	for _, f := range t.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// kevOf lists t's known_exploited findings as "CVE where".
func kevOf(t Target) []string {
	var out []string
	for _, f := range ruleFindings(t, RuleKEV) {
		out = append(out, f.CVE+" "+cmp.Or(f.Addr, "register"))
	}
	slices.Sort(out)
	return out
}

// cvesAt is what the feed says about version, as kevOf would list it.
func cvesAt(t *testing.T, version, where string) []string {
	t.Helper()
	es, err := kev.Embedded().Match("fortinet", version)
	if err != nil || len(es) == 0 {
		t.Fatalf("feed at %s: %v %v", version, es, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.CVE+" "+where)
	}
	slices.Sort(out)
	return out
}

func fortiPoint(firmware string) register.Point {
	return register.Point{ID: "CAF00001", Scan: true, Maker: "Fortinet", Model: "FortiGate 60E", Firmware: firmware, LANAddress: "10.0.0.1"}
}

func snmpHost(descr string) Host {
	return Host{Addr: "10.0.0.1", Ports: []Port{
		{Proto: "tcp", Port: 22, Service: Service{Name: "ssh", Product: "OpenSSH", Version: "9.2p1", Banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}},
		{Proto: "udp", Port: 161, Service: Service{Name: "snmp", Product: descr, Banner: "community public"}},
	}}
}

// The KEV result follows the version the device announces over SNMP,
// whatever the register says, and says where the version came from.
func TestVersionFromSNMP(t *testing.T) {
	announced := cvesAt(t, "6.0.11", "10.0.0.1")

	// Blank register: the device's own version is judged.
	got := judgeOne(t, fortiPoint(""), snmpHost(fortiSysDescr))
	if k := kevOf(got); !slices.Equal(k, announced) {
		t.Errorf("blank register: KEV %q, want %q", k, announced)
	}
	for _, f := range ruleFindings(got, RuleKEV) {
		if !strings.Contains(f.EN, "announced by SNMP sysDescr (10.0.0.1 161/udp)") || !strings.Contains(f.JA, "SNMP の sysDescr（10.0.0.1 161/udp）") || f.Port != 161 {
			t.Errorf("KEV finding does not say where the version came from: %+v", f)
		}
	}
	if n := len(ruleFindings(got, RuleFirmware)) + len(ruleFindings(got, RuleVersionUnknown)); n != 0 {
		t.Errorf("blank register: %d firmware/unknown findings: %+v", n, got.Findings)
	}
	if snmp := got.Hosts[0].Ports[1]; snmp.Service.Version != "v6.0.11,build0387" || !snmp.Service.Device {
		t.Errorf("SNMP port not marked with the release it announces: %+v", snmp.Service)
	}
	if ssh := got.Hosts[0].Ports[0]; ssh.Service.Device {
		t.Errorf("OpenSSH's own version taken for the firmware: %+v", ssh.Service)
	}

	// A wrong register: a 注意 that it differs, and both versions judged.
	got = judgeOne(t, fortiPoint("v7.4.4"), snmpHost(fortiSysDescr))
	fw := ruleFindings(got, RuleFirmware)
	if len(fw) != 1 || !fw[0].Caution || fw[0].Addr != "10.0.0.1" || fw[0].Port != 161 ||
		!strings.Contains(fw[0].EN, "the device announces v6.0.11,build0387 (SNMP sysDescr (10.0.0.1 161/udp)) but the register says v7.4.4") {
		t.Errorf("wrong register: firmware differs %+v", fw)
	}
	want := slices.Concat(announced, cvesAt(t, "7.4.4", "register"))
	slices.Sort(want)
	if k := kevOf(got); !slices.Equal(k, want) {
		t.Errorf("wrong register: KEV %q, want %q", k, want)
	}

	// The register in FortiOS's own spellings: matched, no 注意 that it
	// differs, no "cannot be matched".
	for _, fw := range []string{fortiSysDescr, "FortiOS 6.0.11", "V6.0.11", "６.０.１１"} {
		got = judgeOne(t, fortiPoint(fw), snmpHost(fortiSysDescr))
		if k := kevOf(got); !slices.Equal(k, cvesAt(t, "6.0.11", "register")) {
			t.Errorf("register %q: KEV %q", fw, k)
		}
		if n := len(ruleFindings(got, RuleFirmware)); n != 0 {
			t.Errorf("register %q: %d firmware differs", fw, n)
		}
		for _, f := range got.Findings {
			if strings.Contains(f.EN, "cannot be checked") || f.Rule == RuleVersionUnknown {
				t.Errorf("register %q: %+v", fw, f)
			}
			if f.Rule == RuleKEV && !strings.Contains(f.EN, "the register's version (also announced by SNMP sysDescr (10.0.0.1 161/udp))") {
				t.Errorf("register %q: KEV does not say the device agrees: %s", fw, f.EN)
			}
		}
	}
}

// A product the feed covers with no usable version is a 注意, never a
// quiet blank.
func TestVersionUnknown(t *testing.T) {
	quiet := Host{Addr: "10.0.0.1", Ports: []Port{{Proto: "tcp", Port: 443, Service: Service{Name: "https"}}}}
	for _, tc := range []struct{ firmware, why string }{
		{"", "the register gives no version and the device announces none"},
		{"最新", `version "最新" is not in fortinet form`},
	} {
		got := judgeOne(t, fortiPoint(tc.firmware), quiet)
		u := ruleFindings(got, RuleVersionUnknown)
		if len(u) != 1 || !u[0].Caution || !strings.Contains(u[0].EN, "version unknown: known-exploited vulnerabilities not checked") ||
			!strings.Contains(u[0].EN, tc.why) || !strings.Contains(u[0].JA, "版が分からないため、悪用が確認された脆弱性を照合していません") {
			t.Errorf("firmware %q: version unknown %+v", tc.firmware, u)
		}
	}
	// A device the feed does not cover: nothing to say here (the coverage
	// statement says the feed does not cover it).
	got := judgeOne(t, register.Point{ID: "CAF00002", Scan: true, Maker: "Buffalo", LANAddress: "10.0.0.1"}, quiet)
	if u := ruleFindings(got, RuleVersionUnknown); len(u) != 0 {
		t.Errorf("uncovered product: %+v", u)
	}
	// A portal hint that gives a release range counts as a version.
	ics := Host{Addr: "10.0.0.2", Ports: []Port{{Proto: "tcp", Port: 443, Service: Service{Name: "https"},
		HTTP: &HTTPInfo{Portal: "Ivanti Connect Secure", Vendor: "ivanti", Hints: []VersionHint{{Source: "/dana-na/nc/nc_gina_ver.txt",
			Vendor: "ivanti", Version: "22.7R2 build 3191", Upper: "22.7R2.99999", Confidence: ConfidenceLow}}}}}}
	got = judgeOne(t, register.Point{ID: "CAF00009", Scan: true, Maker: "Ivanti", LANAddress: "10.0.0.2"}, ics)
	if u := ruleFindings(got, RuleVersionUnknown); len(u) != 0 {
		t.Errorf("hinted release: %+v", u)
	}
}

// Every place that announces the same release makes one finding naming
// them all; a Telnet greeting that names the release counts.
func TestAnnouncedPlaces(t *testing.T) {
	rtx := Host{Addr: "10.0.0.3", Ports: []Port{
		{Proto: "tcp", Port: 23, Service: Service{Name: "telnet", Product: "Yamaha RTX1210", Version: "14.01.38", Device: true}},
		{Proto: "udp", Port: 161, Service: Service{Name: "snmp", Product: "RTX1210 Rev.14.01.38 (Fri Jul 10 09:18:04 2020)"}},
	}}
	got := judgeOne(t, register.Point{ID: "CAF00002", Scan: true, Maker: "Yamaha", Model: "RTX1210", Firmware: "Rev.14.01.40", LANAddress: "10.0.0.3"}, rtx)
	fw := ruleFindings(got, RuleFirmware)
	if len(fw) != 1 || fw[0].Port != 23 || !strings.Contains(fw[0].EN, "Telnet banner (10.0.0.3 23/tcp), SNMP sysDescr (10.0.0.3 161/udp)") {
		t.Errorf("router: %+v", fw)
	}
	if s := got.Hosts[0].Ports[1]; s.Service.Version != "14.01.38" || s.String() != "161/udp snmp (RTX1210 Rev.14.01.38 (Fri Jul 10 09:18:04 2020))" {
		t.Errorf("router SNMP: %+v %q", s.Service, s.String())
	}

	fgt := Host{Addr: "10.0.0.1", Ports: []Port{{Proto: "tcp", Port: 23, Service: Service{Name: "telnet", Banner: "FortiGate-60E v6.0.11,build0387,200917 (GA) | login:"}}}}
	got = judgeOne(t, fortiPoint("6.0.11"), fgt)
	if k := kevOf(got); !slices.Equal(k, cvesAt(t, "6.0.11", "register")) || len(ruleFindings(got, RuleFirmware)) != 0 ||
		!strings.Contains(ruleFindings(got, RuleKEV)[0].EN, "also announced by Telnet banner (10.0.0.1 23/tcp)") {
		t.Errorf("FortiGate telnet: %+v", got.Findings)
	}
}

// A hospital's IOS XE edge router as the register writes it: 17.9.3 is in
// both web UI CVEs with 17.9.4a as its train's first fix; 17.9.4a has none.
func TestIOSXERegister(t *testing.T) {
	router := func(firmware string) register.Point {
		return register.Point{ID: "CAF00010", Scan: true, Maker: "Cisco", Model: "ISR4331/K9", Firmware: firmware, LANAddress: "10.0.0.1"}
	}
	got := judgeOne(t, router("IOS XE 17.9.3"))
	if k := kevOf(got); !slices.Equal(k, []string{"CVE-2023-20198 register", "CVE-2023-20273 register"}) {
		t.Errorf("17.9.3: KEV %q", k)
	}
	for _, f := range ruleFindings(got, RuleKEV) {
		if !strings.Contains(f.EN, "the first fixed release of the train of IOS XE 17.9.3 is 17.9.4a") || !strings.Contains(f.JA, "最初の修正版は 17.9.4a") {
			t.Errorf("%s: %s", f.CVE, f.EN)
		}
	}
	if u := ruleFindings(got, RuleVersionUnknown); len(u) != 0 {
		t.Errorf("17.9.3: version unknown %v", u)
	}
	for _, fw := range []string{"17.9.4a", "Cisco IOS XE Software, Version 17.09.04a"} {
		got = judgeOne(t, router(fw))
		if k := kevOf(got); len(k) != 0 || len(ruleFindings(got, RuleVersionUnknown)) != 0 {
			t.Errorf("%s: KEV %q, version unknown %v", fw, k, ruleFindings(got, RuleVersionUnknown))
		}
	}
	// A model the family list does not know: the firmware text names IOS XE.
	other := router("IOS XE 17.9.3")
	other.Model = "891FJ"
	if k := kevOf(judgeOne(t, other)); len(k) != 2 {
		t.Errorf("IOS XE named only by the firmware: KEV %q", k)
	}
	// Classic IOS on the same model: refused with the reason, never "none".
	got = judgeOne(t, router("15.7(3)M5"))
	if u := ruleFindings(got, RuleVersionUnknown); len(kevOf(got)) != 0 || len(u) != 1 || !strings.Contains(u[0].EN, "classic Cisco IOS") {
		t.Errorf("classic IOS: KEV %q, version unknown %v", kevOf(got), u)
	}
}
