package netprobe

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/kev"
)

// RuleVersionUnknown is the 注意 for a product the feed covers whose
// release neither the register nor the device gives in a form the feed
// can be compared with: its known-exploited vulnerabilities were not
// checked, which must never read as "none".
const RuleVersionUnknown = "version_unknown"

// announcement is one release the device states, with every place that
// stated it (a Telnet greeting and the SNMP sysDescr often agree). The
// SSL-VPN portals' hints are judged by judgeHints, not here.
type announcement struct {
	version string
	from    []msg.Text
	// The first place, where findings about it are filed.
	addr, proto string
	port        int
}

// knownSSH are SSH implementations whose banner carries their own version,
// never the device's firmware.
var knownSSH = []string{"openssh", "dropbear", "libssh", "cisco-", "romsshell", "sshd", "paramiko", "golang"}

// announcements collects what the device states about its release: a
// greeting that names the device (Service.Device), the SNMP sysDescr
// (asked only when a community is configured), SSH software names and
// Telnet greetings. A release found in a sysDescr or greeting is written
// into the port's Service (Version, Device), so that the stored report and
// everything after judging (the coverage statement, the fixed release of
// the train) see it. vendor is the feed vendor ("" when the feed does not
// cover the device: then only the greetings that name the device count).
func announcements(t *Target, vendor string) []announcement {
	var out []announcement
	for i := range t.Hosts {
		h := &t.Hosts[i]
		for j := range h.Ports {
			p := &h.Ports[j]
			v, ok := announcedBy(p, vendor)
			if !ok {
				continue
			}
			place := placeOf(h.Addr, p)
			if k := groupOf(out, vendor, v); k >= 0 {
				out[k].from = append(out[k].from, place)
				continue
			}
			out = append(out, announcement{version: v, from: []msg.Text{place}, addr: h.Addr, proto: p.Proto, port: p.Port})
		}
	}
	return out
}

// announcedBy is the release p states, recording one read from free text
// in p.Service.
func announcedBy(p *Port, vendor string) (string, bool) {
	s := &p.Service
	if s.Device && s.Version != "" {
		return s.Version, true
	}
	if p.HTTP != nil || s.Device {
		return "", false
	}
	var text string
	switch s.Name {
	case "snmp":
		text = s.Product
	case "telnet":
		text = s.Banner
	case "ssh":
		if lower := strings.ToLower(s.Product); lower == "" || containsAny(lower, knownSSH) {
			return "", false
		}
		text = s.Banner
	default:
		return "", false
	}
	v, ok := findRelease(vendor, text)
	if ok {
		s.Version, s.Device = v, true
	}
	return v, ok
}

// findRelease finds the device's release in free text: in the feed
// vendor's form, or a Yamaha router's "RTX1210 Rev.14.01.38".
func findRelease(vendor, text string) (string, bool) {
	if vendor != "" {
		return kev.FindVersion(vendor, text)
	}
	if m := yamahaBanner.FindStringSubmatch(text); m != nil {
		return m[2], true
	}
	return "", false
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// placeOf names where a release was read: "SNMP sysDescr (10.0.0.1 161/udp)".
func placeOf(addr string, p *Port) msg.Text {
	where := fmt.Sprintf("%s %d/%s", addr, p.Port, p.Proto)
	switch p.Service.Name {
	case "snmp":
		return msg.Sprintf("SNMP の sysDescr（%s）", "SNMP sysDescr (%s)", where)
	case "ssh":
		return msg.Sprintf("SSH の応答（%s）", "SSH banner (%s)", where)
	case "telnet":
		return msg.Sprintf("Telnet の応答（%s）", "Telnet banner (%s)", where)
	}
	return msg.Sprintf("%s の応答（%s）", "%s banner (%s)", p.Service.Name, where)
}

// groupOf is the index of the announcement in as that names the same
// release as v, or -1.
func groupOf(as []announcement, vendor, v string) int {
	for i, a := range as {
		if sameRelease(vendor, a.version, v) {
			return i
		}
	}
	return -1
}

// sameRelease compares two spellings of a release: by the vendor's
// comparator where both read ("7.2.5 build1517" is "v7.2.5,build1517"),
// otherwise loosely (sameVersion).
func sameRelease(vendor, a, b string) bool {
	if vendor != "" {
		va, errA := kev.ParseVersion(vendor, a)
		vb, errB := kev.ParseVersion(vendor, b)
		if errA == nil && errB == nil {
			return va.Compare(vb) == 0
		}
	}
	return sameVersion(a, b) || sameVersion(b, a)
}

// versionClaim is a release the feed is asked about, and whose it is.
type versionClaim struct {
	version string
	whose   msg.Text
	// Where an announced release was read; empty for the register's.
	addr, proto string
	port        int
}

// judgeVersions holds the register's firmware against what the device
// announces (a firmware_differs 注意 per announced release that differs),
// asks the feed about the register's release and every announced release
// that differs from it, and raises version_unknown when a product the feed
// covers has no release that could be compared.
func judgeVersions(add func(Finding), feed *kev.Feed, vendor string, t *Target) {
	reg := strings.TrimSpace(t.Point.Firmware)
	announced := announcements(t, vendor)
	claims := versionClaims(add, vendor, reg, announced)
	if vendor == "" {
		return
	}
	compared := false
	var reasons []error
	for _, c := range claims {
		es, err := feed.Match(vendor, c.version)
		if err != nil {
			reasons = append(reasons, err)
			add(Finding{Rule: RuleInfo, Addr: c.addr, Text: msg.Sprintf("%s %s を脆弱性情報と照合できません: %v",
				"%s %s cannot be checked against the feed: %v", c.whose, c.version, err)})
			continue
		}
		compared = true
		for _, e := range es {
			add(Finding{Rule: RuleKEV, Caution: true, CVE: e.CVE, Addr: c.addr, Proto: c.proto, Port: c.port,
				Text: msg.Sprintf("%s %s: %s %s は悪用が確認された脆弱性 %s（%s）の影響範囲です。修正版へのアップデートを急いでください（脆弱性情報 %s 版）",
					"%s %s: %s %s is in the range of the known exploited %s (%s); update to a fixed release urgently (feed of %s)",
					e.Product, e.CVE, c.whose, c.version, e.CVE, e.Name(), feed.Date)})
		}
	}
	if !compared && !hintCompared(t) {
		add(versionUnknown(t, reasons))
	}
}

// versionClaims raises a firmware_differs 注意 for every announced release
// that is not the register's, and returns the releases to ask the feed
// about: the register's (saying which places announce the same), then each
// differing announced one (saying where it came from).
func versionClaims(add func(Finding), vendor, reg string, announced []announcement) []versionClaim {
	var claims []versionClaim
	regWhose := msg.T("台帳の版", "the register's version")
	for _, a := range announced {
		from := joinTexts(msg.T("、", ", "), a.from)
		if reg != "" && sameRelease(vendor, a.version, reg) {
			regWhose = msg.Sprintf("台帳の版（%s が示す版と一致）", "the register's version (also announced by %s)", from)
			continue
		}
		if reg != "" {
			add(Finding{Rule: RuleFirmware, Caution: true, Addr: a.addr, Proto: a.proto, Port: a.port,
				Text: msg.Sprintf("機器が示す版 %s（%s）が台帳の版 %s と異なります。台帳を更新するか、機器の版を確認してください",
					"the device announces %s (%s) but the register says %s; update the register or check the device",
					a.version, from, reg)})
		}
		claims = append(claims, versionClaim{version: a.version, addr: a.addr, proto: a.proto, port: a.port,
			whose: msg.Sprintf("機器が示す版（%s）", "the version announced by %s", from)})
	}
	if reg != "" {
		claims = append([]versionClaim{{version: reg, whose: regWhose}}, claims...)
	}
	return claims
}

// hintCompared reports whether an SSL-VPN portal's hint gave judgeHints a
// release range to compare with the feed.
func hintCompared(t *Target) bool {
	for _, h := range t.Hosts {
		for _, p := range h.Ports {
			if p.HTTP == nil {
				continue
			}
			for _, hint := range p.HTTP.Hints {
				if _, _, ok := hint.bounds(); ok {
					return true
				}
			}
		}
	}
	return false
}

// versionUnknown is the 注意 for a covered product without a comparable
// release; reasons are why the releases that were given could not be read.
func versionUnknown(t *Target, reasons []error) Finding {
	product := strings.TrimSpace(t.Point.Maker + " " + t.Point.Model)
	why := msg.T("台帳に版の記入がなく、機器も版を示しません", "the register gives no version and the device announces none")
	if len(reasons) > 0 {
		why = msg.TextOf(msg.Join(reasons...))
	}
	return Finding{Rule: RuleVersionUnknown, Caution: true,
		Text: msg.Sprintf("%s: 版が分からないため、悪用が確認された脆弱性を照合していません（%s）。機器の管理画面で版を確認し、台帳に記入してください",
			"%s: version unknown: known-exploited vulnerabilities not checked (%s); read the release on the device and enter it in the register",
			product, why)}
}
