package alert

import (
	"strings"
	"testing"
	"time"
)

func TestConstructors(t *testing.T) {
	at := time.Date(2026, 5, 1, 17, 0, 0, 0, time.UTC)
	later := at.Add(24 * time.Hour)
	cases := []struct {
		a, again Alert
		kind     Kind
		sev      Severity
		key      string
	}{
		{CycleFailed("gw1", "", at, "x"), CycleFailed("gw1", "", later, "y"), KindCycleFailed, SeverityError, "cycle_failed/gw1/"},
		{MediumNotOff("gw1", "disk-a", at, ""), MediumNotOff("gw1", "disk-a", later, "z"), KindMediumNotOff, SeverityCritical, "medium_not_off/gw1/disk-a"},
		{CycleMissed("gw1", at, at.Add(-time.Hour)), CycleMissed("gw1", later, later), KindCycleMissed, SeverityError, "cycle_missed/gw1"},
		{StagingLow("gw1", at, 12_300_000_000, 300e9), StagingLow("gw1", later, 1, 2), KindStagingLow, SeverityWarning, "staging_low/gw1"},
		{ScanFinding("gw1", at, "kev/fortigate/CVE-2024-21762", "203.0.113.5:443", "SSL-VPNに既知の脆弱性", "SSL-VPN with a known exploited vulnerability"),
			ScanFinding("gw1", later, "kev/fortigate/CVE-2024-21762", "other", "", ""), KindScanFinding, SeverityWarning, "scan_finding/gw1/kev/fortigate/CVE-2024-21762"},
		{LedgerFailed("gw1", at, "chain"), LedgerFailed("gw1", later, ""), KindLedgerFailed, SeverityError, "ledger_failed/gw1"},
		{LedgerFull("gw1", at, "no room"), LedgerFull("gw1", later, ""), KindLedgerFull, SeverityError, "ledger_full/gw1"},
		{SourceAnomaly("gw1", "emr", "20260501T170000Z-ab12cd", at, "entropy"), SourceAnomaly("gw1", "emr", "20260501T170000Z-ab12cd", later, ""),
			KindSourceAnomaly, SeverityCritical, "source_anomaly/gw1/emr/20260501T170000Z-ab12cd"},
	}
	for _, c := range cases {
		a := c.a
		if a.Kind != c.kind || a.Severity != c.sev || a.Severity != c.kind.DefaultSeverity() || a.Key != c.key || c.again.Key != a.Key {
			t.Errorf("%s: kind %s severity %s key %q (again %q)", c.kind, a.Kind, a.Severity, a.Key, c.again.Key)
		}
		if err := a.check(); err != nil {
			t.Errorf("%s: %v", c.kind, err)
		}
		for _, s := range []string{a.TitleJA, a.BodyJA} {
			if !hasJapanese(s) {
				t.Errorf("%s: no Japanese in %q", c.kind, s)
			}
		}
		for _, s := range []string{a.TitleEN, a.BodyEN} {
			if s == "" || hasJapanese(strings.TrimSpace(strings.Split(s, ":")[0])) {
				t.Errorf("%s: English text %q", c.kind, s)
			}
		}
		text := a.Text()
		if strings.Index(text, a.BodyJA) > strings.Index(text, a.BodyEN) || !strings.Contains(text, "2026-05-02 02:00:00 JST") {
			t.Errorf("%s: text not Japanese first or wrong time:\n%s", c.kind, text)
		}
	}
	if s := StagingLow("gw1", at, 12_300_000_000, 300e9).BodyJA; !strings.Contains(s, "12.3 GB(4%)") {
		t.Errorf("staging body: %q", s)
	}
	if s := CycleMissed("gw1", at, at).BodyJA; !strings.HasPrefix(s, "2026-05-02 02:00 JST に予定") {
		t.Errorf("missed body: %q", s)
	}
	if s := MediumNotOff("gw1", "disk-a", at, "").Subject(); s != "[danzen gw1] 【重大】媒体 disk-a の電源遮断を確認できません / CRITICAL: Medium disk-a not verified powered off" {
		t.Errorf("subject: %q", s)
	}
}

func TestResolve(t *testing.T) {
	at := time.Now()
	a := MediumNotOff("gw1", "disk-a", at, "detail")
	r := a.Resolve(at.Add(time.Minute))
	if !r.Resolved || r.Severity != SeverityInfo || r.Key != a.Key || r.Detail != "" || !r.Time.Equal(at.Add(time.Minute)) {
		t.Fatalf("resolved = %+v", r)
	}
	if !strings.Contains(r.Subject(), "【復旧】") || !strings.Contains(r.Subject(), "RESOLVED") || !strings.Contains(r.BodyJA, a.TitleJA) {
		t.Errorf("resolved subject/body: %q / %q", r.Subject(), r.BodyJA)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_500_000: "1.5 MB", 2e12: "2.0 TB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if r >= 0x3000 {
			return true
		}
	}
	return false
}
