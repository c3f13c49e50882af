package kev

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Version is a vendor version reduced to numbers that compare in order.
type Version struct {
	Text  string // as given
	parts []int
}

// Compare returns -1, 0 or +1. Missing trailing parts count as 0, so
// PAN-OS 10.2.9 sorts before 10.2.9-h1.
func (v Version) Compare(w Version) int {
	n := max(len(v.parts), len(w.parts))
	for i := range n {
		a, b := at(v.parts, i), at(w.parts, i)
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	return 0
}

func at(p []int, i int) int {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// grammar is one vendor's version syntax: a pattern whose numeric
// submatches, in order, are the comparable parts (an empty submatch is 0).
type grammar struct {
	example string
	re      *regexp.Regexp
}

// Vendors with a comparator. The keys are the feed's vendor names.
var grammars = map[string]grammar{
	// FortiOS "7.2.5 build1517", "v7.2.5,build1517", "7.2.5". The build
	// number follows the release and is not part of advisories' ranges.
	"fortinet": {"7.2.5 build1517", regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(?:[ ,]+build ?\d+)?(?: \(GA\))?$`)},
	// PAN-OS "10.2.9-h1", "11.1.2".
	"paloalto": {"10.2.9-h1", regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(?:-h(\d+))?$`)},
	// Cisco ASA "9.16(4)57", "9.16(4)", also written "9.16.4.57".
	"cisco": {"9.16(4)57", regexp.MustCompile(`^(\d+)\.(\d+)(?:\((\d+)\)(\d+)?|\.(\d+)(?:\.(\d+))?)$`)},
	// Cisco IOS XE 16.x and later "17.9.4a", "17.09.04a", "16.12.1z1": train
	// (17.9), release (4), then a rebuild letter and number that sort after
	// the plain release (17.9.4 < 17.9.4a < 17.9.4b; 16.12.1z < 16.12.1z1).
	// Major numbers from 16 on: the 3.x numbering ("03.16.10.S") and classic
	// IOS ("15.7(3)M5") are refused by refuseIOSXE.
	"iosxe": {"17.9.4a", regexp.MustCompile(`^(1[6-9]|[2-9]\d)\.(\d{1,2})\.(\d{1,2})([a-z])?(\d{1,2})?$`)},
	// Ivanti / Pulse Connect Secure "22.7R2.5", "9.1R18", "22.7R2.5 build 1234".
	"ivanti": {"22.7R2.5", regexp.MustCompile(`^(\d+)\.(\d+)R(\d+)(?:\.(\d+))?(?: build \d+)?$`)},
	// NetScaler ADC / Gateway "13.1-49.15", "NS13.1: Build 49.15.nc", "13.1".
	"citrix": {"13.1-49.15", regexp.MustCompile(`^(?:NS)?(\d+)\.(\d+)(?:(?:-|: ?Build )(\d+)\.(\d+)(?:\.nc)?)?$`)},
	// SonicOS "6.5.4.14-109n", "7.0.1-5035", "5.9.2.14-12o".
	"sonicwall": {"6.5.4.14-109n", regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-(\d+)[a-z]*)?$`)},
}

// ParseVersion reads s in vendor's syntax, or in one of the vendor's
// other spellings that Normalize knows.
func ParseVersion(vendor, s string) (Version, error) {
	g, ok := grammars[vendor]
	if !ok {
		return Version{}, msg.Errorf("製品 %q の版の比較はできません", "no version comparator for vendor %q", vendor)
	}
	m := g.re.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		if n, ok := Normalize(vendor, s); ok {
			m = g.re.FindStringSubmatch(n)
		}
	}
	if m == nil {
		if refuse, ok := refusals[vendor]; ok {
			if err := refuse(s); err != nil {
				return Version{}, err
			}
		}
		return Version{}, msg.Errorf("版 %q は %s の形式（例: %s）ではありません", "version %q is not in %s form (e.g. %s)", s, vendor, g.example)
	}
	v := Version{Text: s}
	for _, d := range m[1:] {
		n, err := part(d)
		if err != nil {
			return Version{}, msg.Errorf("版 %q: %w", "version %q: %w", s, err)
		}
		v.parts = append(v.parts, n)
	}
	if vendor == "cisco" && m[5] != "" { // the dotted spelling fills the last two groups
		v.parts = []int{v.parts[0], v.parts[1], v.parts[4], v.parts[5]}
	}
	return v, nil
}

// part is one submatch as a number: digits as written ("09" is 9), a
// single letter by its place in the alphabet (IOS XE's rebuild letter,
// "a" is 1), an empty submatch 0.
func part(d string) (int, error) {
	switch {
	case d == "":
		return 0, nil
	case len(d) == 1 && d[0] >= 'a' && d[0] <= 'z':
		return int(d[0]-'a') + 1, nil
	}
	return strconv.Atoi(d)
}

// sameTrain reports whether v and w share their first two numbers, the
// release train of every vendor here (FortiOS 6.0, PAN-OS 11.0, ASA 9.16,
// IOS XE 17.9, ICS 22.7, NetScaler 13.0, SonicOS 6.5).
func (v Version) sameTrain(w Version) bool {
	return at(v.parts, 0) == at(w.parts, 0) && at(v.parts, 1) == at(w.parts, 1)
}
