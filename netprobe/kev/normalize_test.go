package kev

import (
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

// spelling is one way a register or a device writes a release, the
// comparable form it must read as ("" when it must be refused), and a
// KEV entry it must (or must not) fall in.
type spelling struct {
	in, want string
}

func checkSpellings(t *testing.T, vendor string, cases []spelling) {
	t.Helper()
	for _, tc := range cases {
		v, err := ParseVersion(vendor, tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s %q read as %v, want refused", vendor, tc.in, v.parts)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", vendor, tc.in, err)
			continue
		}
		if w := mustParse(t, vendor, tc.want); v.Compare(w) != 0 {
			t.Errorf("%s %q read as %v, want %q", vendor, tc.in, v.parts, tc.want)
		}
		if v.Text != tc.in {
			t.Errorf("%s %q: Text %q, want the text as given", vendor, tc.in, v.Text)
		}
	}
}

func TestNormalizeFortinet(t *testing.T) {
	checkSpellings(t, "fortinet", []spelling{
		{"v6.0.11,build0387,200917 (GA)", "6.0.11"}, // fgSysVersion / get system status
		{"FortiOS 6.0.11", "6.0.11"},
		{"V6.0.11", "6.0.11"},
		{"FortiGate-60F v7.2.5,build1517,230606 (GA.F)", "7.2.5"},
		{"FortiOS v7.4.4 build2662 (GA.M)", "7.4.4"},
		{"ＦｏｒｔｉＯＳ　７．２．５", "7.2.5"}, // full width, as typed in a Japanese register
		{"Ver. 7.0.12", "7.0.12"},
		{"7.2.5 build1517", "7.2.5"},
		{"7.2", ""}, {"7.2.5-h1", ""}, {"FortiOS", ""}, {"6.0.11 beta", ""}, {"PAN-OS 10.2.9", ""},
	})
}

func TestNormalizePaloAlto(t *testing.T) {
	checkSpellings(t, "paloalto", []spelling{
		{"PAN-OS 10.2.9-h1", "10.2.9-h1"},
		{"sw-version: 11.1.2-h3", "11.1.2-h3"}, // show system info
		{"10.2.9-H1", "10.2.9-h1"},
		{"PANOS 11.0.0", "11.0.0"},
		{"Palo Alto Networks PAN-OS 10.1.14-h9", "10.1.14-h9"},
		{"10.2.9 -h 21", "10.2.9-h21"},
		{"10.2.9h1", ""}, {"10.2", ""}, {"PAN-OS", ""},
	})
}

func TestNormalizeCisco(t *testing.T) {
	checkSpellings(t, "cisco", []spelling{
		{"Cisco Adaptive Security Appliance Software Version 9.16(4)57 <context>", "9.16(4)57"},
		{"Cisco Adaptive Security Appliance Version 9.16(4)57", "9.16(4)57"}, // sysDescr
		{"ASA 9.16(4)57", "9.16(4)57"},
		{"Version 9.18(4)8", "9.18(4)8"},
		{"9.16.4.57", "9.16(4)57"},
		{"9.20(2)", "9.20(2)"},
		// IOS XE is a different product line: never read as an ASA release.
		{"Cisco IOS XE Software, Version 17.09.04a", ""}, {"IOS-XE 17.9.4", ""},
		{"9.16(4", ""}, {"ASA", ""},
	})
	if _, err := ParseVersion("cisco", "IOS XE 17.9.4"); err == nil || !strings.Contains(err.Error(), "IOS XE") || !strings.Contains(err.Error(), "ASA") {
		t.Errorf("IOS XE: %v, want a word that the register's model is an ASA", err)
	}
}

func TestNormalizeIOSXE(t *testing.T) {
	checkSpellings(t, "iosxe", []spelling{
		{"17.9.4a", "17.9.4a"},
		{"17.09.04a", "17.9.4a"}, // show version pads with zeros
		{"IOS XE 17.9.4a", "17.9.4a"},
		{"Cisco IOS XE Software, Version 17.09.04a", "17.9.4a"}, // show version's first line
		{"Cisco IOS XE Software Version 17.9.3", "17.9.3"},
		{"IOS-XE 17.6.6a", "17.6.6a"},
		{"iosxe 16.12.4", "16.12.4"},
		{"Cisco IOS XE Software [Dublin] Version 17.12.1a", "17.12.1a"},
		{"Version 17.9.3, RELEASE SOFTWARE (fc2)", "17.9.3"},
		{"ＩＯＳ　ＸＥ　１７．９．４ａ", "17.9.4a"}, // full width, as typed in a Japanese register
		{"16.12.1z1", "16.12.1z1"},
		{"17.9.4A", "17.9.4a"},
		// Refused: old numbering, classic IOS, special builds, incomplete text.
		{"03.16.10.S", ""}, {"3.16.10S", ""}, {"IOS XE 03.07.05E", ""},
		{"15.7(3)M5", ""}, {"Cisco IOS Software, Version 15.2(7)E4", ""}, {"12.2(55)SE", ""},
		{"17.11.99SW", ""}, {"17.9", ""}, {"IOS XE", ""}, {"17.9.4a beta", ""}, {"9.16(4)57 <context>", ""},
	})
	for _, tc := range []struct{ in, word string }{
		{"15.7(3)M5", "classic Cisco IOS"},
		{"Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5", "classic Cisco IOS"},
		{"03.16.10.S", "IOS XE 3.x"},
		{"IOS XE 3.16.10S", "IOS XE 3.x"},
		{"17.9", "iosxe form"},
	} {
		_, err := ParseVersion("iosxe", tc.in)
		if err == nil || !strings.Contains(msg.In(err, msg.EN), tc.word) || msg.In(err, msg.JA) == msg.In(err, msg.EN) {
			t.Errorf("%q: %v, want a bilingual reason naming %q", tc.in, err, tc.word)
		}
	}
}

func TestNormalizeIvanti(t *testing.T) {
	checkSpellings(t, "ivanti", []spelling{
		{"Ivanti Connect Secure 22.7R2.5 (build 3191)", "22.7R2.5"},
		{"Pulse Connect Secure 9.1r18.3", "9.1R18.3"},
		{"ICS 22.7R2", "22.7R2"},
		{"22.7 R2.5", "22.7R2.5"},
		{"Version 22.7R2.4 build 1985", "22.7R2.4"},
		{"22.7.2.5", ""}, {"22.7", ""}, {"Connect Secure", ""},
	})
}

func TestNormalizeCitrix(t *testing.T) {
	checkSpellings(t, "citrix", []spelling{
		{"NetScaler NS13.1: Build 49.15.nc, Date: Jul 10 2023, 11:06:41", "13.1-49.15"}, // sysDescr / show version
		{"Citrix ADC 13.1 Build 49.15", "13.1-49.15"},
		{"NS14.1: Build 8.50.nc", "14.1-8.50"},
		{"13.1-49.15", "13.1-49.15"},
		{"NetScaler 14.1-43.56 FIPS", ""}, // an unknown word after the build: not guessed
		{"13.1-49", ""}, {"NetScaler", ""},
	})
}

func TestNormalizeSonicWall(t *testing.T) {
	checkSpellings(t, "sonicwall", []spelling{
		{"SonicOS Enhanced 6.5.4.14-109n", "6.5.4.14-109n"},
		{"SonicOS 7.0.1-5145-R5175", "7.0.1-5145"},
		{"SMA 10.2.1.9-57sv", "10.2.1.9-57sv"},
		{"SMA1000 12.4.3-02804 (platform-hotfix)", "12.4.3-02804"},
		{"SonicWall SonicOS 7.1.1-7058", "7.1.1-7058"},
		{"SonicOS", ""}, {"6.5.4.14 109n", ""},
	})
}

// The register's spellings of the lab device all meet the same KEV
// entries as the canonical form.
func TestNormalizedMatch(t *testing.T) {
	f := Embedded()
	want, err := f.Match("fortinet", "6.0.11")
	if err != nil || len(want) == 0 {
		t.Fatalf("6.0.11: %v %v", want, err)
	}
	for _, s := range []string{"v6.0.11,build0387,200917 (GA)", "FortiOS 6.0.11", "V6.0.11"} {
		got, err := f.Match("fortinet", s)
		if err != nil || len(got) != len(want) {
			t.Errorf("%q: %d entries (%v), want %d", s, len(got), err, len(want))
		}
	}
}

func TestFindVersion(t *testing.T) {
	for _, tc := range []struct{ vendor, text, want string }{
		{"fortinet", "v6.0.11,build0387,200917 (GA)", "v6.0.11,build0387"},
		{"fortinet", "FortiGate-60F v7.2.5,build1517", "v7.2.5,build1517"},
		{"cisco", "Cisco Adaptive Security Appliance Version 9.16(4)57", "9.16(4)57"},
		{"cisco", "Cisco IOS Software [Dublin], Catalyst L3 Switch Software, IOS XE Version 17.12.1", ""},
		{"iosxe", "Cisco IOS Software [Dublin], Catalyst L3 Switch Software, IOS XE Version 17.12.1", "17.12.1"},
		{"iosxe", "Cisco IOS Software [Cupertino], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.9.3, RELEASE SOFTWARE (fc2)", "17.9.3"},
		{"iosxe", "Cisco IOS XE Software, Version 17.09.04a", "17.09.04a"},
		{"iosxe", "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, RELEASE SOFTWARE (fc1)", ""},
		{"iosxe", "router at 10.0.0.1, uptime 3 days", ""},
		{"citrix", "NetScaler NS13.1: Build 49.15.nc, Date: Jul 10 2023", "NS13.1: Build 49.15"},
		{"sonicwall", "SonicWALL TZ 400 (SonicOS Enhanced 6.5.4.14-109n)", "6.5.4.14-109n"},
		{"ivanti", "Pulse Connect Secure,PSA-3000,9.1R18.3 (build 1234)", "9.1R18.3 (build 1234)"},
		{"paloalto", "Palo Alto Networks PA-220 series firewall", ""},
		{"fortinet", "SSH-2.0-xxxxxxxx", ""},
		{"juniper", "21.4R3", ""},
	} {
		got, ok := FindVersion(tc.vendor, tc.text)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s in %q: %q %v, want %q", tc.vendor, tc.text, got, ok, tc.want)
		}
	}
}
