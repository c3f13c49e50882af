package kev

import (
	"slices"
	"testing"
)

// TestFixFor: each KEV finding names the first fixed release of the
// device's own train, or says that the train was never fixed.
func TestFixFor(t *testing.T) {
	f := Embedded()
	entry := func(cve string) Entry {
		i := slices.IndexFunc(f.Entries, func(e Entry) bool { return e.CVE == cve })
		if i < 0 {
			t.Fatalf("%s not in the feed", cve)
		}
		return f.Entries[i]
	}
	for _, c := range []struct {
		cve, version string
		want         Fix
		ok           bool
	}{
		{"CVE-2024-21762", "6.0.11", Fix{NoFix: true}, true},                        // FortiOS 6.0: all_of_train
		{"CVE-2024-21762", "v6.0.11,build0387,200917 (GA)", Fix{NoFix: true}, true}, // FortiOS's own spelling
		{"CVE-2024-21762", "7.2.5", Fix{LastAffected: "7.2.6"}, true},
		{"CVE-2024-21762", "7.2.7", Fix{}, false}, // fixed
		{"CVE-2024-3400", "10.2.9", Fix{Fixed: "10.2.9-h1"}, true},
		{"CVE-2024-3400", "11.0.3-h2", Fix{Fixed: "11.0.3-h10"}, true}, // the maintenance release's own hotfix
		{"CVE-2023-4966", "13.1-49.10", Fix{Fixed: "13.1-49.15"}, true},
		{"CVE-2025-0108", "11.0.4", Fix{NoFix: true}, true},
		{"CVE-2024-3400", "not a version", Fix{}, false},
		// "6.2.0 and earlier" with no lower bound: 6.0 has no fix of its own.
		{"CVE-2019-5591", "6.0.11", Fix{LastAffected: "6.2.0", NoFix: true, OtherTrain: true}, true},
		{"CVE-2020-3452", "9.6(2)", Fix{Fixed: "9.6(4)42"}, true},
		{"CVE-2020-3452", "9.5(3)", Fix{Fixed: "9.6(4)42", NoFix: true, OtherTrain: true}, true},
		// IOS XE: the first fixed release of the device's train, in the register's spellings.
		{"CVE-2023-20198", "17.9.3", Fix{Fixed: "17.9.4a"}, true},
		{"CVE-2023-20273", "Cisco IOS XE Software, Version 17.09.03", Fix{Fixed: "17.9.4a"}, true},
		{"CVE-2023-20198", "IOS XE 17.6.5", Fix{Fixed: "17.6.6a"}, true},
		{"CVE-2023-20198", "16.12.4", Fix{Fixed: "16.12.10a"}, true},
		{"CVE-2023-20198", "17.10.1a", Fix{LastAffected: "17.10.1b"}, true}, // no fixed release found for 17.10
		{"CVE-2023-20198", "17.9.4a", Fix{}, false},
	} {
		got, ok := entry(c.cve).FixFor(c.version)
		if got != c.want || ok != c.ok {
			t.Errorf("%s %s: %+v %v, want %+v %v", c.cve, c.version, got, ok, c.want, c.ok)
		}
	}
}

// TestNotJudged: the entries named as not judged are KEV entries the feed
// does not carry, of vendors it knows, each with a reason; the lab's
// FortiOS local-only pair is among them.
func TestNotJudged(t *testing.T) {
	f := Embedded()
	seen := map[string]bool{}
	for _, n := range notJudged {
		if slices.ContainsFunc(f.Entries, func(e Entry) bool { return e.CVE == n.CVE }) {
			t.Errorf("%s is judged by the feed but listed as not judged", n.CVE)
		}
		if _, ok := grammars[n.Vendor]; !ok || !cvePattern.MatchString(n.CVE) || n.Why.JA == "" || n.Why.EN == "" || seen[n.CVE] {
			t.Errorf("bad entry %+v", n)
		}
		seen[n.CVE] = true
	}
	var forti []string
	for _, n := range NotJudgedFor("fortinet") {
		forti = append(forti, n.CVE)
	}
	if !slices.Contains(forti, "CVE-2021-44168") || !slices.Contains(forti, "CVE-2022-41328") || len(NotJudgedFor("nobody")) != 0 {
		t.Errorf("fortinet not judged: %v", forti)
	}
	// IOS XE: every KEV row but the web UI pair, adjacent-only first.
	if xe := NotJudgedFor("iosxe"); len(xe) != 26 || xe[0].Why != adjacentOnly || !slices.ContainsFunc(xe, func(n NotJudged) bool { return n.CVE == "CVE-2018-0171" }) {
		t.Errorf("iosxe not judged: %d %+v", len(xe), xe)
	}
}

// TestWeightTables: the ransomware and pre-authentication RCE marks name
// CVEs of the feed (a typo would silently lower a finding's weight).
func TestWeightTables(t *testing.T) {
	f := Embedded()
	in := func(cve string) bool {
		return slices.ContainsFunc(f.Entries, func(e Entry) bool { return e.CVE == cve })
	}
	for _, m := range []map[string]bool{ransomware, preAuthRCE} {
		for cve := range m {
			if !in(cve) {
				t.Errorf("%s is marked but not in the feed", cve)
			}
		}
	}
	if !Ransomware("CVE-2024-21762") || Ransomware("CVE-2024-23113") || !PreAuthRCE("CVE-2024-23113") || PreAuthRCE("CVE-2019-6693") {
		t.Error("marks of the lab's FortiOS CVEs")
	}
}
