package kev

import (
	"regexp"
	"strings"

	"golang.org/x/text/width"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Registers and devices write a release in the vendor's many spellings
// (FortiOS's own "v6.0.11,build0387,200917 (GA)", "FortiOS 6.0.11",
// "Cisco Adaptive Security Appliance Software Version 9.16(4)57 <context>",
// "NS13.1: Build 49.15.nc, Date: …", "SonicOS Enhanced 6.5.4.14-109n"). A
// normaliser rewrites one whole spelling into the grammar's form; anything
// else is left for the grammar to refuse, so a typo is never guessed into a
// release.

// normaliser is one vendor's accepted spellings: re matches the whole
// string (case-insensitive, after width folding) and canon builds the
// grammar's form from its submatches.
type normaliser struct {
	re    *regexp.Regexp
	canon func(m []string) string
}

// The leading words a register or a sysDescr puts before the release.
const leadVersion = `(?:(?:software|firmware|release|version|ver\.?|rev\.?)\s*:?\s*)*`

var normalisers = map[string]normaliser{
	// "v6.0.11,build0387,200917 (GA)", "FortiOS 6.0.11", "FortiGate-60F v7.2.5 build1517 (GA.F)", "V6.0.11".
	"fortinet": {regexp.MustCompile(`^(?:forti(?:os|gate|wifi)[\w-]*[\s,:]*)*` + leadVersion +
		`v?(\d+\.\d+\.\d+)(?:[\s,]*build\s*(\d+))?(?:[\s,]*\d{6})?(?:\s*\((?:ga|feature|mature)[\w.]*\))?$`),
		func(m []string) string { return join(m[1], " build", m[2]) }},
	// "PAN-OS 10.2.9-h1", "sw-version: 11.1.2-h3", "10.2.9-H1".
	"paloalto": {regexp.MustCompile(`^(?:palo\s*alto(?:\s+networks)?\s+)?(?:pan-?os\s*)?(?:sw-version\s*:?\s*)?` + leadVersion +
		`v?(\d+\.\d+\.\d+)(?:\s*-\s*h\s*(\d+))?$`),
		func(m []string) string { return join(m[1], "-h", m[2]) }},
	// "Cisco Adaptive Security Appliance Software Version 9.16(4)57 <context>", "ASA 9.16(4)57", "9.16.4.57".
	"cisco": {regexp.MustCompile(`^(?:cisco\s+)?(?:adaptive\s+security\s+appliance\s+|asa\s+)?` + leadVersion +
		`(\d+\.\d+\(\d+\)\d*|\d+\.\d+\.\d+(?:\.\d+)?)(?:\s*<[\w\s]+>)?$`),
		func(m []string) string { return m[1] }},
	// "Ivanti Connect Secure 22.7R2.5 (build 1234)", "Pulse Connect Secure 9.1r18.3", "ICS 22.7R2".
	"ivanti": {regexp.MustCompile(`^(?:ivanti\s+|pulse\s+)?(?:(?:connect|policy)\s+secure\s+|ics\s+|pcs\s+)?` + leadVersion +
		`v?(\d+\.\d+)\s*r\s*(\d+(?:\.\d+)?)(?:\s*\(?\s*build\s*(\d+)\s*\)?)?$`),
		func(m []string) string { return join(m[1]+"R"+m[2], " build ", m[3]) }},
	// "NetScaler NS13.1: Build 49.15.nc, Date: Jul 10 2023, 11:06:41", "Citrix ADC 13.1 Build 49.15", "13.1-49.15".
	"citrix": {regexp.MustCompile(`^(?:citrix\s+)?(?:netscaler\s+)?(?:adc\s+|gateway\s+)?` + leadVersion +
		`(?:ns)?(\d+\.\d+)(?:\s*(?:-|:|\s)\s*(?:build\s*)?(\d+\.\d+)(?:\.(?:nc|fips|ndcpp))?)?(?:\s*,\s*date:.*)?$`),
		func(m []string) string { return join(m[1], "-", m[2]) }},
	// "SonicOS Enhanced 6.5.4.14-109n", "SonicOS 7.0.1-5145-R5175", "SMA 10.2.1.9-57sv", "12.4.3-02804 (platform-hotfix)".
	"sonicwall": {regexp.MustCompile(`^(?:sonicwall\s+)?(?:sonicos\s+(?:enhanced\s+)?|sma\s*\d*\s+)?` + leadVersion +
		`v?(\d+\.\d+(?:\.\d+){0,2}(?:-\d+[a-z]*)?)(?:-r\d+)?(?:\s*\([\w\s-]*\))?$`),
		func(m []string) string { return m[1] }},
}

// join is a + sep + b, or a alone when b is empty.
func join(a, sep, b string) string {
	if b == "" {
		return a
	}
	return a + sep + b
}

// iosXE recognises Cisco's router software, whose releases (16.x, 17.x)
// the ASA comparator must not read: the feed has no IOS XE entries.
var iosXE = regexp.MustCompile(`(?i)\bios[\s-]*xe\b`)

// Normalize rewrites s, a release as a register or device writes it, into
// vendor's comparable form ("v6.0.11,build0387,200917 (GA)" becomes
// "6.0.11 build0387"). ok is false when s is not one of the vendor's
// spellings; the caller then reports ParseVersion's error.
func Normalize(vendor, s string) (string, bool) {
	n, ok := normalisers[vendor]
	if !ok {
		return "", false
	}
	folded := strings.ToLower(strings.Join(strings.Fields(width.Fold.String(s)), " "))
	if vendor == "cisco" && iosXE.MatchString(folded) {
		return "", false
	}
	m := n.re.FindStringSubmatch(folded)
	if m == nil {
		return "", false
	}
	return n.canon(m), true
}

// finders pick a vendor's release out of free text: a sysDescr, a Telnet
// greeting, an SSH software version. Each candidate is then read by
// ParseVersion, so a finder may be loose.
var finders = map[string]*regexp.Regexp{
	"fortinet":  regexp.MustCompile(`(?i)\bv?\d+\.\d+\.\d+(?:,\s*build\s*\d+)?`),
	"paloalto":  regexp.MustCompile(`(?i)\b\d+\.\d+\.\d+(?:-h\d+)?\b`),
	"cisco":     regexp.MustCompile(`\b\d+\.\d+\(\d+\)\d*|(?i:version\s+\d+\.\d+\.\d+(?:\.\d+)?)`),
	"ivanti":    regexp.MustCompile(`(?i)\b\d+\.\d+R\d+(?:\.\d+)?(?:\s*\(?build\s*\d+\)?)?`),
	"citrix":    regexp.MustCompile(`(?i)\bNS\d+\.\d+:\s*Build\s*\d+\.\d+|\b\d+\.\d+-\d+\.\d+\b`),
	"sonicwall": regexp.MustCompile(`(?i)\b\d+\.\d+\.\d+(?:\.\d+)?-\d+[a-z]*`),
}

// FindVersion returns the first release in text that vendor's comparator
// reads, as it appears in text. Cisco IOS XE text yields nothing (see
// iosXE).
func FindVersion(vendor, text string) (string, bool) {
	f, ok := finders[vendor]
	if !ok || (vendor == "cisco" && iosXE.MatchString(text)) {
		return "", false
	}
	for _, c := range f.FindAllString(text, 8) {
		if _, err := ParseVersion(vendor, c); err == nil {
			return strings.TrimSpace(c), true
		}
	}
	return "", false
}

// errIOSXE is ParseVersion's answer for Cisco IOS XE text.
func errIOSXE(s string) error {
	return msg.Errorf("%q は Cisco IOS XE の版です。脆弱性フィードは Cisco では ASA のみを扱います",
		"%q is a Cisco IOS XE release; the feed covers only the ASA among Cisco products", s)
}
