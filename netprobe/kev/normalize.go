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
// "Cisco IOS XE Software, Version 17.09.04a",
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
	// "Cisco IOS XE Software, Version 17.09.04a", "IOS XE 17.9.4a", "IOS-XE 17.9.3",
	// "Cisco IOS XE Software [Dublin] Version 17.12.1a", "17.9.4a, RELEASE SOFTWARE (fc3)".
	"iosxe": {regexp.MustCompile(`^(?:cisco\s+)?(?:ios[\s-]?xe\b)?[\s,]*` +
		`(?:(?:software|release|version|ver\.?|\[[\w\s.-]*\])[\s,:]*)*(\d+\.\d+\.\d+[a-z]?\d*)(?:[\s,]*release\s+software)?(?:\s*\(fc\d+\))?$`),
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

// iosXE recognises Cisco's router and switch software, whose releases
// (16.x, 17.x) the ASA comparator must not read: they go to "iosxe".
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
	"fortinet": regexp.MustCompile(`(?i)\bv?\d+\.\d+\.\d+(?:,\s*build\s*\d+)?`),
	"paloalto": regexp.MustCompile(`(?i)\b\d+\.\d+\.\d+(?:-h\d+)?\b`),
	"cisco":    regexp.MustCompile(`\b\d+\.\d+\(\d+\)\d*|(?i:version\s+\d+\.\d+\.\d+(?:\.\d+)?)`),
	// "Cisco IOS Software [Dublin], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.9.3, RELEASE SOFTWARE (fc2)":
	// only the number after "Version" (an address in the text is not a release).
	"iosxe":     regexp.MustCompile(`(?i)\bversion\s+(\d+\.\d+\.\d+[a-z]?\d*)\b`),
	"ivanti":    regexp.MustCompile(`(?i)\b\d+\.\d+R\d+(?:\.\d+)?(?:\s*\(?build\s*\d+\)?)?`),
	"citrix":    regexp.MustCompile(`(?i)\bNS\d+\.\d+:\s*Build\s*\d+\.\d+|\b\d+\.\d+-\d+\.\d+\b`),
	"sonicwall": regexp.MustCompile(`(?i)\b\d+\.\d+\.\d+(?:\.\d+)?-\d+[a-z]*`),
}

// FindVersion returns the first release in text that vendor's comparator
// reads, as it appears in text (a finder's first group when it has one).
// Cisco IOS XE text yields nothing for the ASA (see iosXE).
func FindVersion(vendor, text string) (string, bool) {
	f, ok := finders[vendor]
	if !ok || (vendor == "cisco" && iosXE.MatchString(text)) {
		return "", false
	}
	for _, m := range f.FindAllStringSubmatch(text, 8) {
		c := m[len(m)-1]
		if _, err := ParseVersion(vendor, c); err == nil {
			return strings.TrimSpace(c), true
		}
	}
	return "", false
}

// refusals say why a text is not a release of the vendor when it is a
// neighbouring Cisco product's; nil when they have nothing to say.
var refusals = map[string]func(s string) error{
	"cisco": func(s string) error {
		if iosXE.MatchString(s) {
			return msg.Errorf("%q は Cisco IOS XE の版です。台帳の機種が ASA のため ASA の版として照合しません（IOS XE の機器は機種に ISR・Catalyst・C8000・ASR1000 などを記入してください）",
				"%q is a Cisco IOS XE release, but the register's model is an ASA, so it is not compared as an ASA release (for an IOS XE device write its model: ISR, Catalyst, C8000, ASR1000 …)", s)
		}
		return nil
	},
	"iosxe": refuseIOSXE,
}

var (
	// classicIOS is a Cisco IOS (not XE) release: "15.7(3)M5", "12.2(55)SE".
	classicIOS = regexp.MustCompile(`\b\d+\.\d+\(\d+[a-z]?\)`)
	// oldIOSXE is the IOS XE 3.x numbering with its train letters:
	// "03.16.10.S", "3.16.10S", "03.07.05E".
	oldIOSXE = regexp.MustCompile(`(?i)(?:^|[\s,])0?3\.\d{1,2}\.\d{1,2}[a-z]?\.?[a-z]{1,3}\b`)
)

// refuseIOSXE says why s is not an IOS XE 16.x/17.x release.
func refuseIOSXE(s string) error {
	switch {
	case classicIOS.MatchString(s) && !iosXE.MatchString(s):
		return msg.Errorf("%q は Cisco IOS（IOS XE ではない従来の IOS）の版です。脆弱性フィードは従来の IOS を扱わないため照合しません",
			"%q is a classic Cisco IOS release (not IOS XE); the feed does not cover classic IOS, so it is not compared", s)
	case oldIOSXE.MatchString(s):
		return msg.Errorf("%q は IOS XE 3.x の旧い番号体系の版です。フィードの範囲は 16.x 以降の番号で書かれているため照合しません",
			"%q is an IOS XE 3.x release in the old numbering; the feed's ranges are written in 16.x and later numbers, so it is not compared", s)
	}
	return nil
}
