package alert

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
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
		{CycleFailed("gw1", "", at, msg.Plain("x")), CycleFailed("gw1", "", later, msg.Plain("y")), KindCycleFailed, SeverityError, "cycle_failed/gw1/"},
		{MediumNotOff("gw1", "disk-a", at, msg.Text{}), MediumNotOff("gw1", "disk-a", later, msg.Plain("z")), KindMediumNotOff, SeverityCritical, "medium_not_off/gw1/disk-a"},
		{CycleMissed("gw1", at, at.Add(-time.Hour), tokyo), CycleMissed("gw1", later, later, tokyo), KindCycleMissed, SeverityError, "cycle_missed/gw1"},
		{StagingLow("gw1", at, 12_300_000_000, 300e9), StagingLow("gw1", later, 1, 2), KindStagingLow, SeverityWarning, "staging_low/gw1"},
		{ScanFinding("gw1", at, "kev/fortigate/CVE-2024-21762", "203.0.113.5:443", msg.T("SSL-VPNに既知の脆弱性", "SSL-VPN with a known exploited vulnerability")),
			ScanFinding("gw1", later, "kev/fortigate/CVE-2024-21762", "other", msg.Text{}), KindScanFinding, SeverityWarning, "scan_finding/gw1/kev/fortigate/CVE-2024-21762"},
		{LedgerFailed("gw1", at, msg.Plain("chain")), LedgerFailed("gw1", later, msg.Text{}), KindLedgerFailed, SeverityError, "ledger_failed/gw1"},
		{LedgerFull("gw1", at, msg.Plain("no room")), LedgerFull("gw1", later, msg.Text{}), KindLedgerFull, SeverityError, "ledger_full/gw1"},
		{SourceAnomaly("gw1", "emr", "20260501T170000Z-ab12cd", at, msg.Plain("entropy")), SourceAnomaly("gw1", "emr", "20260501T170000Z-ab12cd", later, msg.Text{}),
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
		for _, s := range []string{a.Title.JA, a.Body.JA} {
			if !hasJapanese(s) {
				t.Errorf("%s: no Japanese in %q", c.kind, s)
			}
		}
		for _, s := range []string{a.Title.EN, a.Body.EN} {
			if s == "" || hasJapanese(strings.TrimSpace(strings.Split(s, ":")[0])) {
				t.Errorf("%s: English text %q", c.kind, s)
			}
		}
		text := a.Text(tokyo)
		if strings.Index(text, a.Body.JA) > strings.Index(text, a.Body.EN) || !strings.Contains(text, "2026-05-02 02:00:00 JST") {
			t.Errorf("%s: text not Japanese first or wrong time:\n%s", c.kind, text)
		}
	}
	if s := StagingLow("gw1", at, 12_300_000_000, 300e9).Body.JA; !strings.Contains(s, "12.3 GB(4%)") {
		t.Errorf("staging body: %q", s)
	}
	if s := CycleMissed("gw1", at, at, tokyo).Body.JA; !strings.HasPrefix(s, "2026-05-02 02:00 JST に予定") {
		t.Errorf("missed body: %q", s)
	}
	if s := MediumNotOff("gw1", "disk-a", at, msg.Text{}).Subject(); s != "[danzen gw1] 【重大】媒体 disk-a の電源遮断を確認できません / CRITICAL: Medium disk-a not verified powered off" {
		t.Errorf("subject: %q", s)
	}
}

func TestResolve(t *testing.T) {
	at := time.Now()
	a := MediumNotOff("gw1", "disk-a", at, msg.Plain("detail"))
	r := a.Resolve(at.Add(time.Minute))
	if !r.Resolved || r.Severity != SeverityInfo || r.Key != a.Key || !r.Detail.IsZero() || !r.Time.Equal(at.Add(time.Minute)) {
		t.Fatalf("resolved = %+v", r)
	}
	if !strings.Contains(r.Subject(), "【復旧】") || !strings.Contains(r.Subject(), "RESOLVED") || !strings.Contains(r.Body.JA, a.Title.JA) {
		t.Errorf("resolved subject/body: %q / %q", r.Subject(), r.Body.JA)
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

// The webhook body keeps each language in its own flat key, as the package
// documentation promises, and reads back into the same Alert.
func TestAlertJSONKeepsFlatKeys(t *testing.T) {
	at := time.Date(2026, 5, 1, 17, 0, 0, 0, time.UTC)
	a := CycleFailed("gw1", "disk-a", at, msg.T("原因", "cause"))
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"title_ja": a.Title.JA, "title_en": a.Title.EN, "body_ja": a.Body.JA, "body_en": a.Body.EN,
		"detail": "原因 / cause", "dedup_key": "cycle_failed/gw1/disk-a", "medium": "disk-a",
	} {
		if flat[k] != want {
			t.Errorf("%s = %#v, want %#v", k, flat[k], want)
		}
	}
	var back Alert
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Title != a.Title || back.Body != a.Body || back.Detail != a.Detail || back.Key != a.Key || !back.Time.Equal(a.Time) {
		t.Errorf("read back %+v, want %+v", back, a)
	}
}

// A failed channel reads whole in each language, the cause included.
func TestChannelErrorInEachLanguage(t *testing.T) {
	err := &ChannelError{Channel: "email", Attempts: 2, Err: permanent(msg.New("TLSなしでは認証しません", "refusing to authenticate without TLS"))}
	if got, want := msg.In(err, msg.JA), "通知チャネル email で送信できませんでした(2回試行): TLSなしでは認証しません"; got != want {
		t.Errorf("Japanese: %q, want %q", got, want)
	}
	if got, want := msg.In(err, msg.EN), "alert channel email failed after 2 attempt(s): refusing to authenticate without TLS"; got != want {
		t.Errorf("English: %q, want %q", got, want)
	}
}
