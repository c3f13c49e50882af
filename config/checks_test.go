package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/relay"
)

// fieldText is what validation says about field, in both languages, or ""
// when it says nothing.
func fieldText(t *testing.T, err error, field string) string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	var out []string
	for _, f := range ve.For(field) {
		if f.Text.JA == "" || f.Text.EN == "" {
			t.Errorf("%s: a language is missing: %+v", field, f.Text)
		}
		out = append(out, f.Text.String())
	}
	return strings.Join(out, "\n")
}

// savedAndLoaded runs c through Save and Load: the file on disk, the page
// and start-up all see the same verdict.
func savedAndLoaded(t *testing.T, c *Config) (saveErr, loadErr error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	saveErr = Save(p, c)
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, loadErr = Load(p)
	return saveErr, loadErr
}

func TestCheckPercentageOver100IsRefusedWhenSaved(t *testing.T) {
	for _, bad := range []string{"150%", "100.5%", "0%", "-5%", "NaN%", "five%", "0/5", "6/5", "1/300", "1/2/3", "a/b", "0", "-1M", "12X", "1.5G", "%"} {
		c := validConfig()
		c.CheckSubset = bad
		saveErr, loadErr := savedAndLoaded(t, c)
		if saveErr == nil || loadErr == nil {
			t.Errorf("check %q: save %v, load %v", bad, saveErr, loadErr)
			continue
		}
		if got := fieldText(t, saveErr, "check_read_data_subset"); !strings.Contains(got, "100%") {
			t.Errorf("check %q: message %q does not say the limit", bad, got)
		}
	}
	for _, good := range []string{"", "5%", "100%", "2.5%", "1/5", "5/5", "256/256", "500M", "2G", "1024", "10k", "1T"} {
		c := validConfig()
		c.CheckSubset = good
		if err := c.Validate(); err != nil {
			t.Errorf("check %q refused: %v", good, err)
		}
	}
}

func TestTwoRelaysOnOneLineAreRefusedByConfigValidation(t *testing.T) {
	gpio := func(name string, line, sense int) relay.Spec {
		return relay.Spec{Name: name, Driver: relay.DriverGPIO, Chip: "gpiochip0", Line: line,
			Sense: &relay.SenseSpec{Chip: "gpiochip0", Line: sense}}
	}
	for name, tc := range map[string]struct {
		relays []relay.Spec
		field  string
	}{
		// relay-disk-a moved onto relay-disk-b's lines
		"same output and sense": {[]relay.Spec{gpio("r1", 17, 27), gpio("r2", 17, 27)}, "relays[1].line"},
		"same sense line":       {[]relay.Spec{gpio("r1", 17, 27), gpio("r2", 18, 27)}, "relays[1].sense.line"},
		"sense on an output":    {[]relay.Spec{gpio("r1", 17, 27), gpio("r2", 18, 17)}, "relays[1].sense.line"},
	} {
		c := validConfig()
		c.Relays = tc.relays
		saveErr, loadErr := savedAndLoaded(t, c)
		if saveErr == nil || loadErr == nil {
			t.Errorf("%s: save %v, load %v", name, saveErr, loadErr)
			continue
		}
		if got := fieldText(t, saveErr, tc.field); !strings.Contains(got, "already used by relay r1") || !strings.Contains(got, "リレー r1 がすでに使っています") {
			t.Errorf("%s: %s says %q", name, tc.field, got)
		}
	}
	c := validConfig()
	c.Relays = []relay.Spec{gpio("r1", 17, 27), gpio("r2", 18, 22)}
	if err := c.Validate(); err != nil {
		t.Fatalf("two relays on their own lines: %v", err)
	}
	c.Relays = []relay.Spec{{Name: "r1", Driver: relay.DriverSimulated}, {Name: "r2", Driver: relay.DriverSimulated}}
	if err := c.Validate(); err != nil {
		t.Fatalf("simulated relays use no line: %v", err)
	}
}

func TestSecretFilesMustSitDirectlyInSecrets(t *testing.T) {
	const outside = "../../../etc/ssh/ssh_host_ed25519_key"
	webhook := func(c *Config) {
		c.Alerts.Webhook = &alert.WebhookSpec{URL: "https://hook.example.jp/x", TokenFile: outside}
	}
	for _, tc := range []struct {
		field string
		edit  func(c *Config)
	}{
		{"sources[0].key_file", func(c *Config) { c.Sources[0].KeyFile = outside }},
		{"sources[0].key_file", func(c *Config) { c.Sources[0].KeyFile = "/etc/ssh/ssh_host_ed25519_key" }},
		{"sources[0].key_file", func(c *Config) { c.Sources[0].KeyFile = "keys/emr.key" }},
		{"media[0].password_file", func(c *Config) { c.Media[0].PasswordFile = "../disk-a.pw" }},
		{"restore.targets[0].key_file", func(c *Config) { c.Restore.Targets = []RestoreTarget{target(outside)} }},
		{"restore.targets[0].key_file", func(c *Config) { c.Restore.Targets = []RestoreTarget{target(`sub\key`)} }},
		{"media[0].s3.secret_key_file", func(c *Config) { c.Media[0] = s3Medium(outside, "") }},
		{"media[0].s3.ca_file", func(c *Config) { c.Media[0] = s3Medium("cloud.key", "../ca.pem") }},
		{"alerts.email.password_file", func(c *Config) { c.Alerts.Email = email(outside) }},
		{"alerts.webhook.token_file", webhook},
	} {
		field, edit := tc.field, tc.edit
		c := validConfig()
		edit(c)
		saveErr, loadErr := savedAndLoaded(t, c)
		if saveErr == nil || loadErr == nil {
			t.Errorf("%s: save %v, load %v", field, saveErr, loadErr)
			continue
		}
		if got := fieldText(t, saveErr, field); !strings.Contains(got, "directly in the secrets folder") {
			t.Errorf("%s: says %q (all: %v)", field, got, saveErr)
		}
	}
	c := validConfig()
	c.Sources[0].KeyFile = filepath.Join(c.SecretsDir, "emr.key") // absolute, but in secrets/
	c.Media[0] = s3Medium("cloud.key", "/etc/ssl/certs/hospital-ca.pem")
	c.Restore.Targets = []RestoreTarget{target("emr-back.key")}
	if err := c.Validate(); err != nil {
		t.Fatalf("secrets directly in secrets/ (and a public CA elsewhere) refused: %v", err)
	}
}

func target(key string) RestoreTarget {
	return RestoreTarget{Name: "back", Host: "10.0.0.6", Port: 22, User: "write", KeyFile: key, KnownHosts: []string{knownHost}, BaseDir: "/restore"}
}

func s3Medium(secret, ca string) Medium {
	return Medium{Name: "cloud", Type: MediumS3, PasswordFile: "cloud.pw", S3: &s3.Spec{Name: "cloud", Endpoint: "s3.example.jp", Bucket: "hospital-backup",
		AccessKeyID: "AK", SecretKeyFile: secret, CAFile: ca, MinRetentionDays: 3650}}
}

func email(pw string) *alert.EmailSpec {
	return &alert.EmailSpec{Server: "10.0.0.5", Port: 465, TLS: "implicit", From: "a@example.jp", To: []string{"b@example.jp"}, Username: "danzen", PasswordFile: pw}
}

func TestConfigurationWithNoSourcesIsRefused(t *testing.T) {
	c := validConfig()
	c.Sources = nil
	c.Restore.Targets = nil
	_, loadErr := savedAndLoaded(t, c)
	if loadErr == nil {
		t.Fatal("a configuration without a source loaded")
	}
	for l, want := range map[msg.Lang]string{msg.JA: "取得元を1つ以上追加してください", msg.EN: "add at least one"} {
		if got := msg.In(loadErr, l); !strings.Contains(got, "sources: ") || !strings.Contains(got, want) {
			t.Errorf("%v: %q", l, got)
		}
	}
	if !Unfinished(c.Validate()) {
		t.Error("no source alone is not reported as unfinished")
	}
	// While commissioning (nothing to lose yet) a step may be saved…
	cur := Default()
	if err := c.ValidateChange(cur); err != nil {
		t.Errorf("a commissioning step refused: %v", err)
	}
	// …but a change that removes the last source is refused.
	if err := c.ValidateChange(validConfig()); fieldText(t, err, "sources") == "" {
		t.Errorf("removing the last source: %v", err)
	}
	// Unfinished and otherwise wrong is refused even while commissioning.
	c.Schedule = "never"
	if err := c.ValidateChange(cur); err == nil || Unfinished(err) || fieldText(t, err, "sources") != "" {
		t.Errorf("a wrong schedule without a source, while commissioning: %v", err)
	}
	// Start-up loads an unfinished file and says what it lacks.
	p := filepath.Join(t.TempDir(), "config.json")
	if err := Save(p, Default()); err != nil {
		t.Fatal(err)
	}
	got, missing, err := LoadUnfinished(p)
	if err != nil || got == nil || missing == nil || len(missing.For("sources")) != 1 {
		t.Fatalf("LoadUnfinished: %v %v %v", got, missing, err)
	}
}

func TestEmptyConfigFileSaysSoPlainly(t *testing.T) {
	for _, data := range []string{"", "\n", "  \n\t"} {
		p := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
		if !strings.Contains(ja, "設定ファイルが空です") || !strings.Contains(en, "the configuration file is empty") || strings.Contains(en, "EOF") {
			t.Errorf("empty file %q: %q / %q", data, ja, en)
		}
	}
}
