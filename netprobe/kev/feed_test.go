package kev

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func cves(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.CVE)
	}
	return out
}

func TestEmbeddedMatch(t *testing.T) {
	f := Embedded()
	for _, tc := range []struct {
		vendor, version string
		want            []string
	}{
		{"fortinet", "7.2.5 build1517", []string{"CVE-2024-21762"}},
		{"fortinet", "7.2.4", []string{"CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "7.2.7 build1577", nil},
		{"fortinet", "7.0.16", []string{"CVE-2024-55591"}},
		{"fortinet", "6.0.18", []string{"CVE-2024-21762"}},
		{"paloalto", "10.2.9", []string{"CVE-2024-3400", "CVE-2024-0012", "CVE-2025-0108"}},
		{"paloalto", "10.2.9-h1", []string{"CVE-2024-0012", "CVE-2025-0108"}},
		{"paloalto", "10.2.8-h3", []string{"CVE-2024-0012", "CVE-2025-0108"}},
		{"paloalto", "11.2.5", nil},
		{"cisco", "9.16(4)57", nil},
		{"cisco", "9.16(4)55", []string{"CVE-2024-20353"}},
		{"cisco", "9.14(1)6", []string{"CVE-2020-3452", "CVE-2024-20353"}},
		{"ivanti", "22.7R2.5", []string{"CVE-2025-22457"}},
		{"ivanti", "22.7R2.4", []string{"CVE-2025-0282", "CVE-2025-22457"}},
		{"ivanti", "22.7R2.6", nil},
		{"citrix", "13.1-49.15", []string{"CVE-2025-5777"}},
		{"citrix", "13.1-49.13", []string{"CVE-2023-4966", "CVE-2025-5777"}},
		{"citrix", "14.1-43.56", nil},
		{"sonicwall", "6.5.4.14-109n", []string{"CVE-2024-40766"}},
		{"sonicwall", "6.5.4.15-116n", nil},
	} {
		got, err := f.Match(tc.vendor, tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cves(got), tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.vendor, tc.version, cves(got), tc.want)
		}
	}
	if f.Date == "" || len(f.Entries) < 15 {
		t.Fatalf("embedded feed: date %q, %d entries", f.Date, len(f.Entries))
	}
}

func TestAcceptRejects(t *testing.T) {
	good := `{"date":"2099-01-01","source":"x","entries":[{"cve":"CVE-2099-0001","vendor":"fortinet","product":"FortiOS","kev_date_added":"2099-01-01","name_ja":"あ","name_en":"a","affected":[{"from":"7.0.0","fixed":"7.0.9"}]}]}`
	if _, err := Accept([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"older":         strings.Replace(good, "2099-01-01", "2020-01-01", 1),
		"bad date":      strings.Replace(good, "2099-01-01", "01/01/2099", 1),
		"bad cve":       strings.Replace(good, "CVE-2099-0001", "CVE-99", 1),
		"vendor":        strings.Replace(good, `"fortinet"`, `"juniper"`, 1),
		"version":       strings.Replace(good, `"7.0.9"`, `"7.0"`, 1),
		"inverted":      strings.Replace(good, `"7.0.9"`, `"6.4.1"`, 1),
		"unknown field": strings.Replace(good, `"source"`, `"sauce"`, 1),
		"no entries":    `{"date":"2099-01-01","source":"x","entries":[]}`,
		"not json":      `<html>`,
	} {
		if _, err := Accept([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), " / ") {
			t.Errorf("%s: message not bilingual: %v", name, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	f, err := Load(filepath.Join(dir, "absent.json"))
	if err != nil || f.Date != Embedded().Date {
		t.Fatalf("missing upload: %v %v", f, err)
	}
	path := filepath.Join(dir, "kev.json")
	os.WriteFile(path, []byte(`{"date":"2000-01-01"}`), 0o644)
	if _, err := Load(path); err == nil {
		t.Fatal("broken upload accepted")
	}
	older := strings.Replace(string(embedded), `"date": "`+Embedded().Date, `"date": "2001-01-01`, 1)
	os.WriteFile(path, []byte(older), 0o644)
	if f, err := Load(path); err != nil || f.Date != Embedded().Date {
		t.Fatalf("an upload older than the firmware's feed: %v %v", f, err)
	}
	newer := strings.Replace(string(embedded), `"date": "`+Embedded().Date, `"date": "2099-01-01`, 1)
	os.WriteFile(path, []byte(newer), 0o644)
	if f, err := Load(path); err != nil || f.Date != "2099-01-01" {
		t.Fatalf("a newer upload: %v %v", f, err)
	}
}

func TestVendorOf(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"Fortinet", "FortiGate 60F"}:    "fortinet",
		{"Palo Alto Networks", "PA-440"}: "paloalto",
		{"Cisco", "ASA 5506-X"}:          "cisco",
		{"Cisco", "ISR 1100"}:            "",
		{"Ivanti", "Connect Secure"}:     "ivanti",
		{"Citrix", "NetScaler Gateway"}:  "citrix",
		{"SonicWall", "TZ370"}:           "sonicwall",
		{"Yamaha", "RTX1210"}:            "",
	} {
		if got := VendorOf(in[0], in[1]); got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
	}
}
