package kev

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

func cves(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.CVE)
	}
	slices.Sort(out)
	return out
}

// The edge CVEs the issue names must be in the feed, each with the
// reference it was checked against.
func TestEmbeddedEntries(t *testing.T) {
	f := Embedded()
	byCVE := map[string]Entry{}
	for _, e := range f.Entries {
		if _, dup := byCVE[e.CVE]; dup {
			t.Errorf("%s twice", e.CVE)
		}
		byCVE[e.CVE] = e
		if e.Advisory == "" || len(e.Sources) == 0 || (e.Checked != CheckedConfirmed && e.Checked != CheckedPartial) {
			t.Errorf("%s: advisory %q, sources %q, checked %q", e.CVE, e.Advisory, e.Sources, e.Checked)
		}
		if e.KEVDateAdded > f.Date {
			t.Errorf("%s added %s, after the feed's date %s", e.CVE, e.KEVDateAdded, f.Date)
		}
	}
	for _, want := range []string{
		"CVE-2018-13379", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762", // FortiOS SSL-VPN
		"CVE-2024-23113", "CVE-2019-6693", // FortiOS fgfmd, configuration key
		"CVE-2023-46805", "CVE-2024-21887", "CVE-2024-21893", "CVE-2025-0282", // Ivanti Connect Secure
		"CVE-2019-19781", "CVE-2023-3519", "CVE-2023-4966", // NetScaler
		"CVE-2024-3400", "CVE-2024-3393", // PAN-OS
		"CVE-2020-3452", "CVE-2025-20333", "CVE-2025-20362", // ASA WebVPN
		"CVE-2024-40766", "CVE-2021-20016", "CVE-2021-20035", "CVE-2021-20038", // SonicOS, SMA 100
		// Added in the third pass (SOURCES.md).
		"CVE-2025-24472", "CVE-2024-9474", "CVE-2023-6548", "CVE-2023-6549", "CVE-2023-44221", "CVE-2025-23006",
		"CVE-2018-13382", "CVE-2018-13383", "CVE-2025-59718", "CVE-2025-40602", "CVE-2019-1579", "CVE-2020-2021",
		"CVE-2023-20198", "CVE-2023-20273", // IOS XE web UI (SOURCES.md, "Cisco IOS XE")
	} {
		if _, ok := byCVE[want]; !ok {
			t.Errorf("%s missing from the feed", want)
		}
	}
	if !strings.Contains(f.Source, "cvelistV5") || !strings.Contains(f.Source, "cisa-kev-history") {
		t.Errorf("source does not name what was checked: %q", f.Source)
	}
}

// Boundaries of real entries in each vendor's own spelling: the newest
// affected release matches, the first fixed one does not.
func TestEmbeddedMatch(t *testing.T) {
	f := Embedded()
	for _, tc := range []struct {
		vendor, version string
		want            []string
	}{
		// FortiOS: FG-IR-24-015 and FG-IR-24-029 7.2.0–7.2.6, FG-IR-23-097 7.2.0–7.2.4, FG-IR-22-398 7.2.0–7.2.2,
		// FG-IR-25-647 (CVE-2025-59718) 7.2.0–7.2.11.
		{"fortinet", "7.2.5 build1517", []string{"CVE-2024-21762", "CVE-2024-23113", "CVE-2025-59718"}},
		{"fortinet", "7.2.6 build1575", []string{"CVE-2024-21762", "CVE-2024-23113", "CVE-2025-59718"}},
		{"fortinet", "7.2.7 build1577", []string{"CVE-2025-59718"}},
		{"fortinet", "7.2.4", []string{"CVE-2023-27997", "CVE-2024-21762", "CVE-2024-23113", "CVE-2025-59718"}},
		{"fortinet", "7.2.2", []string{"CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762", "CVE-2024-23113", "CVE-2025-59718"}},
		{"fortinet", "7.2.1", []string{"CVE-2022-40684", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762", "CVE-2024-23113", "CVE-2025-59718"}},
		{"fortinet", "v7.4.2,build2571", []string{"CVE-2024-21762", "CVE-2024-23113", "CVE-2025-59718"}},
		{"fortinet", "7.4.3", []string{"CVE-2025-59718"}},
		{"fortinet", "7.0.13", []string{"CVE-2024-21762", "CVE-2024-23113", "CVE-2024-55591", "CVE-2025-24472", "CVE-2025-59718"}},
		{"fortinet", "7.0.14", []string{"CVE-2024-55591", "CVE-2025-24472", "CVE-2025-59718"}},
		{"fortinet", "7.0.16", []string{"CVE-2024-55591", "CVE-2025-24472", "CVE-2025-59718"}}, // FG-IR-24-535: both 7.0.0 through 7.0.16
		{"fortinet", "7.0.17", []string{"CVE-2025-59718"}},                                     // CVE-2024-55591 and CVE-2025-24472 fixed in 7.0.17
		{"fortinet", "7.0.18", nil}, // FG-IR-25-647: 7.0.0 through 7.0.17
		{"fortinet", "7.2.11", []string{"CVE-2025-59718"}},
		{"fortinet", "7.2.12", nil},
		{"fortinet", "7.4.8", []string{"CVE-2025-59718"}},
		{"fortinet", "7.4.9", nil},
		{"fortinet", "7.6.3", []string{"CVE-2025-59718"}},
		{"fortinet", "7.6.4", nil},
		// FG-IR-18-389 (CVE-2018-13382) and FG-IR-18-388 (CVE-2018-13383).
		{"fortinet", "5.4.10", []string{"CVE-2018-13379", "CVE-2018-13382", "CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.4.11", []string{"CVE-2018-13379", "CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.4.12", []string{"CVE-2018-13379", "CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.6.8", []string{"CVE-2018-13382", "CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.6.9", []string{"CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.2.14", []string{"CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.2.15", []string{"CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "6.0.18", []string{"CVE-2019-5591", "CVE-2024-21762"}}, // 6.0 never fixed
		{"fortinet", "6.2.16", nil},
		{"fortinet", "6.0.4", []string{"CVE-2018-13379", "CVE-2018-13382", "CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.0.5", []string{"CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.0.6", []string{"CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.0.7", []string{"CVE-2019-5591", "CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.0.10", []string{"CVE-2019-5591", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.2.0", []string{"CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.2.3", []string{"CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.2.4", []string{"CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "6.4.0", []string{"CVE-2020-12812", "CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"}},
		{"fortinet", "5.4.13", []string{"CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}},
		{"fortinet", "5.6.10", []string{"CVE-2018-13383", "CVE-2019-5591", "CVE-2019-6693", "CVE-2020-12812", "CVE-2022-42475"}}, // FG-IR-19-007 as revised
		{"fortinet", "5.6.11", []string{"CVE-2019-5591", "CVE-2020-12812", "CVE-2022-42475"}},
		// PAN-OS: per maintenance release hotfixes.
		{"paloalto", "10.2.9", []string{"CVE-2024-0012", "CVE-2024-3393", "CVE-2024-3400", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.2.9-h1", []string{"CVE-2024-0012", "CVE-2024-3393", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.2.9-h16", []string{"CVE-2024-3393", "CVE-2025-0108", "CVE-2025-0111"}}, // CVE-2024-0012 and CVE-2024-9474 fixed in 10.2.9-h16
		{"paloalto", "10.2.9-h19", []string{"CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.2.9-h21", nil},
		{"paloalto", "10.2.8-h2", []string{"CVE-2024-0012", "CVE-2024-3393", "CVE-2024-3400", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.2.8-h3", []string{"CVE-2024-0012", "CVE-2024-3393", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "11.0.6", []string{"CVE-2024-0012", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "11.0.6-h1", []string{"CVE-2025-0108", "CVE-2025-0111"}}, // 11.0 end of life, never fixed
		{"paloalto", "11.1.2-h17", []string{"CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "11.1.2-h18", nil},
		{"paloalto", "11.2.4-h3", []string{"CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "11.2.4-h4", nil},
		{"paloalto", "10.2.7-h23", []string{"CVE-2025-0108", "CVE-2025-0111"}}, // CVE-2024-3393 starts at 10.2.8
		{"paloalto", "11.2.2", []string{"CVE-2024-0012", "CVE-2024-3393", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.14-h7", []string{"CVE-2024-3393", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.14-h8", []string{"CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.14-h9", nil},
		// CVE-2024-9474: every 10.1 release before 10.1.9, then one hotfix per maintenance release.
		{"paloalto", "10.1.8", []string{"CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.9-h13", []string{"CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.9-h14", []string{"CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.14-h5", []string{"CVE-2024-3393", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.1.14-h6", []string{"CVE-2024-3393", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.2.12-h1", []string{"CVE-2024-0012", "CVE-2024-3393", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "10.2.12-h2", []string{"CVE-2024-3393", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "11.2.4", []string{"CVE-2024-0012", "CVE-2024-9474", "CVE-2025-0108", "CVE-2025-0111"}},
		{"paloalto", "11.2.4-h1", []string{"CVE-2025-0108", "CVE-2025-0111"}},
		// CVE-2019-1579 (7.1.18, 8.0.11-h1, 8.1.2 and earlier) and CVE-2020-2021 (8.0 all; 8.1.15, 9.0.9, 9.1.3 fixed).
		{"paloalto", "7.1.18", []string{"CVE-2019-1579"}},
		{"paloalto", "7.1.19", nil},
		{"paloalto", "8.0.11-h1", []string{"CVE-2019-1579", "CVE-2020-2021"}},
		{"paloalto", "8.0.12", []string{"CVE-2020-2021"}}, // 8.0 end of life, never fixed for CVE-2020-2021
		{"paloalto", "8.1.2", []string{"CVE-2019-1579", "CVE-2020-2021"}},
		{"paloalto", "8.1.3", []string{"CVE-2020-2021"}},
		{"paloalto", "8.1.14", []string{"CVE-2020-2021"}},
		{"paloalto", "8.1.15", nil},
		{"paloalto", "9.0.8", []string{"CVE-2020-2021"}},
		{"paloalto", "9.0.9", nil},
		{"paloalto", "9.1.2", []string{"CVE-2020-2021"}},
		{"paloalto", "9.1.3", nil},
		// ASA: the CVE records' fixed and newest listed releases.
		{"cisco", "9.16(4)55", []string{"CVE-2024-20353", "CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.16(4)57", []string{"CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.16(4)84", []string{"CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.16(4)85", nil}, // CISA ED 25-03 minimum
		{"cisco", "9.18(4)40", []string{"CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.18(4)47", []string{"CVE-2025-20362"}},
		{"cisco", "9.18(4)67", nil},
		{"cisco", "9.23(1)13", []string{"CVE-2025-20362"}},
		{"cisco", "9.14(1)6", []string{"CVE-2020-3452", "CVE-2024-20353", "CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.14(1)10", []string{"CVE-2024-20353", "CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.6.4.41", []string{"CVE-2020-3452"}},
		{"cisco", "9.6(4)42", nil},
		{"cisco", "9.5(3)9", []string{"CVE-2020-3452"}}, // no lower bound: every release before 9.6(4)42
		{"cisco", "9.7(1)4", []string{"CVE-2020-3452"}},
		{"cisco", "9.12(3)9", []string{"CVE-2020-3452", "CVE-2024-20353", "CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.12(3)12", []string{"CVE-2024-20353", "CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.20(2)", []string{"CVE-2024-20353", "CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.20(2)10", []string{"CVE-2025-20333", "CVE-2025-20362"}},
		{"cisco", "9.20(4)10", nil},
		// IOS XE web UI (cisco-sa-iosxe-webui-privesc-j22SaA4z): both CVEs, the same releases.
		{"iosxe", "17.9.3", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "17.9.4", []string{"CVE-2023-20198", "CVE-2023-20273"}}, // newest 17.9 release the record lists
		{"iosxe", "17.9.1y1", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "17.9.4a", nil}, // first fixed release of 17.9
		{"iosxe", "17.09.05", nil},
		{"iosxe", "17.6.6", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "17.6.6a", nil},
		{"iosxe", "17.3.8", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "17.3.8a", nil},
		{"iosxe", "16.12.10", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "16.12.1z2", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "16.12.10a", nil},
		{"iosxe", "16.1.1", []string{"CVE-2023-20198", "CVE-2023-20273"}}, // the oldest release the record lists
		{"iosxe", "17.12.1a", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "17.12.2", nil}, // no fixed release found for 17.12: past the newest listed (partial)
		{"iosxe", "17.10.1b", []string{"CVE-2023-20198", "CVE-2023-20273"}},
		{"iosxe", "17.13.1", nil},
		// Ivanti Connect Secure.
		{"ivanti", "22.7R2.4", []string{"CVE-2025-0282", "CVE-2025-22457"}},
		{"ivanti", "22.7R2.5", []string{"CVE-2025-22457"}},
		{"ivanti", "22.7R2.5 build 1234", []string{"CVE-2025-22457"}},
		{"ivanti", "22.7R2.6", nil},
		{"ivanti", "9.1R18.2", []string{"CVE-2023-46805", "CVE-2024-21887", "CVE-2024-21893", "CVE-2025-22457"}},
		{"ivanti", "9.1R18.3", []string{"CVE-2025-22457"}},
		{"ivanti", "9.0R3.3", []string{"CVE-2019-11510", "CVE-2023-46805", "CVE-2024-21887", "CVE-2024-21893", "CVE-2025-22457"}},
		{"ivanti", "9.0R3.4", []string{"CVE-2023-46805", "CVE-2024-21887", "CVE-2024-21893", "CVE-2025-22457"}},
		// NetScaler.
		{"citrix", "13.1-49.15", []string{"CVE-2023-6548", "CVE-2023-6549", "CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		{"citrix", "13.1-49.14", []string{"CVE-2023-4966", "CVE-2023-6548", "CVE-2023-6549", "CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		{"citrix", "13.1-49.12", []string{"CVE-2023-3519", "CVE-2023-4966", "CVE-2023-6548", "CVE-2023-6549", "CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		{"citrix", "14.1-47.46", []string{"CVE-2025-7775"}},
		{"citrix", "14.1-47.48", nil},
		{"citrix", "NS13.0: Build 92.21.nc", []string{"CVE-2025-6543"}}, // 13.0 end of life; CTX584986 fixed in 13.0-92.21
		{"citrix", "13.0-47.23", []string{"CVE-2019-19781", "CVE-2023-3519", "CVE-2023-4966", "CVE-2023-6548", "CVE-2023-6549", "CVE-2025-6543"}},
		{"citrix", "13.0-47.24", []string{"CVE-2023-3519", "CVE-2023-4966", "CVE-2023-6548", "CVE-2023-6549", "CVE-2025-6543"}},
		{"citrix", "12.1-55.18", []string{"CVE-2025-6543"}},
		{"citrix", "12.1-55.17", []string{"CVE-2019-19781", "CVE-2025-6543"}},
		// CTX584986 (CVE-2023-6548, CVE-2023-6549).
		{"citrix", "13.0-92.20", []string{"CVE-2023-6548", "CVE-2023-6549", "CVE-2025-6543"}},
		{"citrix", "13.1-51.14", []string{"CVE-2023-6548", "CVE-2023-6549", "CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		{"citrix", "13.1-51.15", []string{"CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		{"citrix", "14.1-12.34", []string{"CVE-2023-6548", "CVE-2023-6549", "CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		{"citrix", "14.1-12.35", []string{"CVE-2025-5777", "CVE-2025-6543", "CVE-2025-7775"}},
		// SonicOS Gen5/6/7.
		{"sonicwall", "6.5.4.14-109n", []string{"CVE-2024-40766"}},
		{"sonicwall", "6.5.4.15-116n", nil},
		{"sonicwall", "7.0.1-5035", []string{"CVE-2024-40766", "CVE-2024-53704"}},
		{"sonicwall", "7.0.1-5036", []string{"CVE-2024-53704"}},
		{"sonicwall", "7.1.1-7058", []string{"CVE-2024-53704"}},
		{"sonicwall", "7.1.3-7015", nil},
		{"sonicwall", "8.0.0-8035", []string{"CVE-2024-53704"}},
		{"sonicwall", "8.0.0-8037", nil},
		// SMA 100 firmware: the same comparator, numbers SonicOS never uses.
		// CVE-2023-44221 covers every SMA 100 release up to 10.2.1.9-57sv.
		{"sonicwall", "10.2.0.4-25sv", []string{"CVE-2021-20016", "CVE-2021-20035", "CVE-2021-20038", "CVE-2023-44221"}},
		{"sonicwall", "10.2.0.5-29sv", []string{"CVE-2021-20035", "CVE-2021-20038", "CVE-2023-44221"}},
		{"sonicwall", "10.2.0.7-34sv", []string{"CVE-2021-20035", "CVE-2021-20038", "CVE-2023-44221"}},
		{"sonicwall", "10.2.0.8-37sv", []string{"CVE-2021-20038", "CVE-2023-44221"}},
		{"sonicwall", "10.2.0.9-41sv", []string{"CVE-2023-44221"}},
		{"sonicwall", "10.2.1.0-17sv", []string{"CVE-2021-20035", "CVE-2021-20038", "CVE-2023-44221"}},
		{"sonicwall", "10.2.1.2-24sv", []string{"CVE-2021-20038", "CVE-2023-44221"}},
		{"sonicwall", "10.2.1.3-27sv", []string{"CVE-2023-44221"}},
		{"sonicwall", "9.0.0.10-28sv", []string{"CVE-2021-20035", "CVE-2023-44221"}},
		{"sonicwall", "9.0.0.11-31sv", []string{"CVE-2023-44221"}},
		// SNWLID-2023-0018: SMA100 10.2.1.9-57sv and earlier (from 9.0 here).
		{"sonicwall", "10.2.1.9-57sv", []string{"CVE-2023-44221"}},
		{"sonicwall", "10.2.1.10-62sv", nil}, // the record names no fixed build; the next release is past its last
		// SNWLID-2025-0002: SMA1000 12.4.3-02804 and earlier (12.x here).
		{"sonicwall", "12.0.0", []string{"CVE-2025-23006", "CVE-2025-40602"}},
		{"sonicwall", "12.4.3-02804", []string{"CVE-2025-23006", "CVE-2025-40602"}},
		{"sonicwall", "12.4.3-02854", []string{"CVE-2025-40602"}}, // past CVE-2025-23006's last (the record names no fixed build)
		// SNWLID-2025-0019: SMA1000 12.4.3-03093 and 12.5.0-02002 and earlier (12.x here).
		{"sonicwall", "12.4.3-03093", []string{"CVE-2025-40602"}},
		{"sonicwall", "12.4.3-03094", nil}, // past the record's last; the fixed build is not named in the record
		{"sonicwall", "12.5.0-02002", []string{"CVE-2025-40602"}},
		{"sonicwall", "12.5.0-02003", nil},
		{"sonicwall", "5.9.2.14-12o", []string{"CVE-2024-40766"}},
		{"sonicwall", "5.9.2.14-13o", nil},
	} {
		got, err := f.Match(tc.vendor, tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cves(got), tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.vendor, tc.version, cves(got), tc.want)
		}
	}
}

const goodFeed = `{"date":"2099-01-01","source":"x","entries":[{"cve":"CVE-2099-0001","vendor":"fortinet","product":"FortiOS",` +
	`"kev_date_added":"2099-01-01","name_ja":"あ","name_en":"a","advisory":"FG-IR-99-001","sources":["cvelistV5"],"checked":"confirmed",` +
	`"affected":[{"from":"7.0.0","fixed":"7.0.9"}]}]}`

func TestAcceptRejects(t *testing.T) {
	if _, err := Accept([]byte(goodFeed)); err != nil {
		t.Fatal(err)
	}
	good := goodFeed
	for name, bad := range map[string]string{
		"older":               strings.Replace(good, `"date":"2099-01-01"`, `"date":"2020-01-01"`, 1),
		"bad date":            strings.Replace(good, "2099-01-01", "01/01/2099", 1),
		"bad cve":             strings.Replace(good, "CVE-2099-0001", "CVE-99", 1),
		"vendor":              strings.Replace(good, `"fortinet"`, `"juniper"`, 1),
		"version":             strings.Replace(good, `"7.0.9"`, `"7.0"`, 1),
		"inverted":            strings.Replace(good, `"7.0.9"`, `"6.4.1"`, 1),
		"unknown field":       strings.Replace(good, `"source"`, `"sauce"`, 1),
		"no source":           strings.Replace(good, `"source":"x"`, `"source":" "`, 1),
		"no entries":          `{"date":"2099-01-01","source":"x","entries":[]}`,
		"not json":            `<html>`,
		"no advisory":         strings.Replace(good, `"FG-IR-99-001"`, `""`, 1),
		"no sources":          strings.Replace(good, `["cvelistV5"]`, `[]`, 1),
		"blank source":        strings.Replace(good, `["cvelistV5"]`, `["cvelistV5",""]`, 1),
		"unchecked":           strings.Replace(good, `"confirmed"`, `"yes"`, 1),
		"partial, no note":    strings.Replace(good, `"confirmed"`, `"partial"`, 1),
		"added after date":    strings.Replace(good, `"kev_date_added":"2099-01-01"`, `"kev_date_added":"2099-02-01"`, 1),
		"bad added":           strings.Replace(good, `"kev_date_added":"2099-01-01"`, `"kev_date_added":"soon"`, 1),
		"no bound":            strings.Replace(good, `,"fixed":"7.0.9"`, ``, 1),
		"two bounds":          strings.Replace(good, `"fixed":"7.0.9"`, `"fixed":"7.0.9","last":"7.0.8"`, 1),
		"fixed and train":     strings.Replace(good, `"fixed":"7.0.9"`, `"fixed":"7.0.9","all_of_train":true`, 1),
		"train without from":  strings.Replace(good, `"from":"7.0.0","fixed":"7.0.9"`, `"all_of_train":true`, 1),
		"last before from":    strings.Replace(good, `"fixed":"7.0.9"`, `"last":"6.4.9"`, 1),
		"no product":          strings.Replace(good, `"product":"FortiOS"`, `"product":""`, 1),
		"trailing entry junk": strings.Replace(good, `"checked":"confirmed"`, `"checked":"confirmed","verified":true`, 1),
	} {
		if _, err := Accept([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), " / ") {
			t.Errorf("%s: message not bilingual: %v", name, err)
		}
	}
	partial := strings.Replace(good, `"checked":"confirmed"`, `"checked":"partial","note":"fixed release not confirmed"`, 1)
	if _, err := Accept([]byte(partial)); err != nil {
		t.Errorf("partial entry with a note: %v", err)
	}
	open := strings.Replace(good, `"from":"7.0.0",`, ``, 1)
	if f, err := Accept([]byte(open)); err != nil {
		t.Errorf("range without lower bound: %v", err)
	} else if m, _ := f.Match("fortinet", "5.0.1"); len(m) != 1 {
		t.Errorf("5.0.1 is before fixed 7.0.9: %v", cves(m))
	}
}

// An uploaded copy of the embedded feed with one fact changed is refused
// whenever the change breaks a check, and always when it is older.
func TestAcceptTampered(t *testing.T) {
	emb := Embedded()
	tamper := func(change func(*Feed)) []byte {
		b, _ := json.Marshal(emb)
		var f Feed
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		change(&f)
		b, _ = json.Marshal(f)
		return b
	}
	if _, err := Accept(tamper(func(*Feed) {})); err != nil {
		t.Fatalf("the embedded feed re-uploaded: %v", err)
	}
	for name, data := range map[string][]byte{
		"older":             tamper(func(f *Feed) { f.Date = "2024-01-01"; f.Entries = f.Entries[:1] }),
		"date before entry": tamper(func(f *Feed) { f.Date = "2025-08-25" }),
		"range widened":     tamper(func(f *Feed) { f.Entries[0].Affected[0].Last = "5.4.x" }),
		"source stripped":   tamper(func(f *Feed) { f.Entries[3].Sources = nil }),
		"advisory stripped": tamper(func(f *Feed) { f.Entries[3].Advisory = "" }),
		"no longer checked": tamper(func(f *Feed) { f.Entries[5].Checked = "" }),
		"note of partial cut": tamper(func(f *Feed) {
			for i := range f.Entries {
				if f.Entries[i].Checked == CheckedPartial {
					f.Entries[i].Note = ""
				}
			}
		}),
	} {
		if _, err := Accept(data); err == nil {
			t.Errorf("%s: accepted", name)
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
	writeFile(t, path, []byte(`{"date":"2000-01-01"}`))
	if _, err := Load(path); err == nil {
		t.Fatal("broken upload accepted")
	}
	// A genuine older feed: the entries known on 2024-01-10.
	old := *Embedded()
	old.Date = "2024-01-10"
	old.Entries = slices.DeleteFunc(slices.Clone(old.Entries), func(e Entry) bool { return e.KEVDateAdded > old.Date })
	b, _ := json.Marshal(old)
	writeFile(t, path, b)
	if f, err := Load(path); err != nil || f.Date != Embedded().Date {
		t.Fatalf("an upload older than the firmware's feed: %v %v", f, err)
	}
	newer := strings.Replace(string(embedded), `"date": "`+Embedded().Date, `"date": "2099-01-01`, 1)
	writeFile(t, path, []byte(newer))
	if f, err := Load(path); err != nil || f.Date != "2099-01-01" {
		t.Fatalf("a newer upload: %v %v", f, err)
	}
}

// A refused feed is explained in the reader's language: each fault on a
// line of its own, with no half of the other language mixed in.
func TestRefusalInOneLanguage(t *testing.T) {
	bad := strings.Replace(strings.Replace(goodFeed, `"7.0.9"`, `"7.0"`, 1), "CVE-2099-0001", "CVE-99", 1)
	_, err := Accept([]byte(bad))
	if err == nil {
		t.Fatal("accepted")
	}
	ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
	for _, want := range []string{"脆弱性フィードに誤りがあります", "CVE 番号の形式が誤りです", `affected[0]: 版 "7.0" は fortinet の形式`} {
		if !strings.Contains(ja, want) {
			t.Errorf("Japanese lacks %q:\n%s", want, ja)
		}
	}
	for _, want := range []string{"the vulnerability feed is invalid", "malformed CVE ID", `affected[0]: version "7.0" is not in fortinet form`} {
		if !strings.Contains(en, want) {
			t.Errorf("English lacks %q:\n%s", want, en)
		}
	}
	if strings.Count(ja, "\n") != 2 || strings.Contains(ja, "invalid") || strings.ContainsFunc(en, func(r rune) bool { return r > 0x3000 }) {
		t.Errorf("languages mixed or lines lost:\n%s\n%s", ja, en)
	}
	if e := Embedded().Entries[0]; e.Name() != msg.T(e.NameJA, e.NameEN) || e.Name().JA == "" {
		t.Errorf("Name of %s: %+v", e.CVE, e.Name())
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVendorOf(t *testing.T) {
	for _, tc := range []struct{ maker, model, firmware, want string }{
		{"Fortinet", "FortiGate 60F", "", "fortinet"},
		{"Palo Alto Networks", "PA-440", "", "paloalto"},
		{"Cisco", "ASA 5506-X", "", "cisco"},
		{"Cisco", "ASA 5506-X", "IOS XE 17.9.4a", "cisco"}, // the model decides; the ASA comparator says why not
		{"Cisco", "Firepower 1010", "", "cisco"},
		// IOS XE by the register's firmware text (by model family: below).
		{"Cisco", "", "IOS XE 17.9.4a", "iosxe"},
		{"シスコ", "ISR4331", "", "iosxe"},
		{"Cisco", "891FJ", "Cisco IOS XE Software, Version 17.09.04a", "iosxe"},
		{"", "Cisco IOS-XE router", "", "iosxe"},
		{"Cisco", "891FJ", "15.7(3)M5", ""}, // classic IOS router: not in the feed
		{"Cisco", "", "", ""},
		{"Ivanti", "Connect Secure", "", "ivanti"},
		{"Citrix", "NetScaler Gateway", "", "citrix"},
		{"SonicWall", "TZ370", "", "sonicwall"},
		{"Yamaha", "RTX1210", "", ""},
		{"Yamaha", "RTX1210", "Rev.14.01.38", ""},
	} {
		if got := VendorOf(tc.maker, tc.model, tc.firmware); got != tc.want {
			t.Errorf("%q %q %q: %q, want %q", tc.maker, tc.model, tc.firmware, got, tc.want)
		}
	}
	for _, model := range []string{"ISR 1100", "ISR4331/K9", "C8200-1N-4T", "Catalyst 8300", "ASR1001-X", "C1111-8P", "CSR1000V"} {
		if got := VendorOf("Cisco", model); got != "iosxe" {
			t.Errorf("Cisco %s: %q, want iosxe", model, got)
		}
	}
}
