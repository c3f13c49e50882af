package kev

import "testing"

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		vendor, a, b string
		want         int
	}{
		{"fortinet", "7.2.5 build1517", "7.2.5", 0},
		{"fortinet", "v7.2.5,build1517", "7.2.7", -1},
		{"fortinet", "7.2.10", "7.2.9", 1},
		{"fortinet", "7.4.0", "7.2.99", 1},
		{"paloalto", "10.2.9-h1", "10.2.9", 1},
		{"paloalto", "10.2.9-h1", "10.2.9-h1", 0},
		{"paloalto", "10.2.9-h3", "10.2.10", -1},
		{"paloalto", "10.2.8-h10", "10.2.8-h3", 1},
		{"cisco", "9.16(4)57", "9.16(4)", 1},
		{"cisco", "9.16(4)57", "9.16.4.57", 0},
		{"cisco", "9.16(4)9", "9.16(4)57", -1},
		{"cisco", "9.16(3)99", "9.16(4)", -1},
		{"iosxe", "17.9.4a", "17.9.4", 1},
		{"iosxe", "17.9.4a", "17.09.04a", 0},
		{"iosxe", "17.9.4b", "17.9.4a", 1},
		{"iosxe", "17.9.5", "17.9.4a", 1},
		{"iosxe", "17.10.1", "17.9.4a", 1},
		{"iosxe", "16.12.1z1", "16.12.1z", 1},
		{"iosxe", "16.12.1z2", "16.12.2", -1},
		{"iosxe", "17.3.1w", "17.3.2", -1},
		{"ivanti", "22.7R2.5", "22.7R2", 1},
		{"ivanti", "22.7R2.4", "22.7R2.5", -1},
		{"ivanti", "22.7R2.5 build 1234", "22.7R2.5", 0},
		{"ivanti", "9.1R18.3", "22.7R1", -1},
		{"citrix", "13.1-49.15", "13.1-49.13", 1},
		{"citrix", "NS13.1: Build 49.15.nc", "13.1-49.15", 0},
		{"citrix", "13.1-9.60", "13.1-49.15", -1},
		{"citrix", "13.1", "13.1-0.1", -1},
		{"sonicwall", "6.5.4.14-109n", "6.5.4.15-116n", -1},
		{"sonicwall", "7.0.1-5035", "7.0.1-5036", -1},
		{"sonicwall", "5.9.2.14-12o", "5.9.2.14-12o", 0},
		// Range boundaries of the embedded feed.
		{"fortinet", "7.2.6 build1575", "7.2.7", -1},
		{"paloalto", "10.2.13-h3", "10.2.13-h2", 1},
		{"paloalto", "10.2.9-h16", "10.2.9-h21", -1},
		{"cisco", "9.18(4)8", "9.18.4.22", -1},
		{"cisco", "9.20(2)", "9.20(2)10", -1},
		{"ivanti", "22.7R2.6", "22.7R2.5 build 1234", 1},
		{"citrix", "14.1-8.50", "14.1-43.56", -1},
		{"citrix", "13.1-59.22", "13.1-59.19", 1},
	} {
		a, b := mustParse(t, tc.vendor, tc.a), mustParse(t, tc.vendor, tc.b)
		if got := a.Compare(b); got != tc.want {
			t.Errorf("%s: %q vs %q = %d, want %d", tc.vendor, tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ vendor, s string }{
		{"fortinet", "7.2"}, {"fortinet", "7.2.5-h1"}, {"paloalto", "10.2"}, {"paloalto", "10.2.9h1"},
		{"cisco", "9.16(4"}, {"ivanti", "22.7.2.5"}, {"citrix", "13.1-49"}, {"sonicwall", "SonicOS"},
		{"juniper", "21.4R3"}, {"fortinet", ""},
		{"iosxe", "03.16.10.S"}, {"iosxe", "15.7(3)M5"}, {"iosxe", "17.9.4aa"}, {"iosxe", "9.16(4)57"}, {"iosxe", "17.9"},
	} {
		if _, err := ParseVersion(tc.vendor, tc.s); err == nil {
			t.Errorf("%s %q parsed", tc.vendor, tc.s)
		}
	}
}

func TestSameTrain(t *testing.T) {
	for _, tc := range []struct {
		vendor, a, b string
		want         bool
	}{
		{"fortinet", "6.0.18", "6.0.0", true},
		{"fortinet", "6.2.0", "6.0.0", false},
		{"paloalto", "11.0.6-h1", "11.0.0", true},
		{"paloalto", "11.1.0", "11.0.0", false},
		{"cisco", "9.16(4)57", "9.16(1)", true},
		{"cisco", "9.16.4.57", "9.1(6)", false},
		{"iosxe", "17.09.03", "17.9.4a", true},
		{"iosxe", "17.10.1", "17.9.4a", false},
		{"citrix", "NS13.0: Build 92.21.nc", "13.0", true},
		{"citrix", "13.1-1.1", "13.0", false},
	} {
		a, b := mustParse(t, tc.vendor, tc.a), mustParse(t, tc.vendor, tc.b)
		if got := a.sameTrain(b); got != tc.want {
			t.Errorf("%s: %q and %q same train = %v", tc.vendor, tc.a, tc.b, got)
		}
	}
}

func mustParse(t *testing.T, vendor, s string) Version {
	t.Helper()
	v, err := ParseVersion(vendor, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
