package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/relay"
)

const knownHost = "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

func validConfig() *Config {
	c := Default()
	c.StagingDir = "/srv/staging"
	s := DefaultSource()
	s.Name = "emr"
	s.Host = "127.0.0.1"
	s.User = "danzen-pull"
	s.KeyFile = "emr_ed25519"
	s.KnownHosts = []string{knownHost}
	s.ExportDir = "/export"
	c.Sources = []Source{s}
	c.Relays = []relay.Spec{{Name: "r1", Driver: relay.DriverSimulated}, {Name: "r2", Driver: relay.DriverSimulated}}
	c.Media = []Medium{
		{Name: "disk-a", Type: MediumDisk, Relay: "r1", PasswordFile: "disk-a.pw", Disk: &disk.Spec{Name: "disk-a", FSUUID: "0b3f7a52-6c1e-4d1a-9a51-2f4d0c7e9b11", MediaID: "A"}},
		{Name: "disk-b", Type: MediumDisk, Relay: "r2", PasswordFile: "disk-b.pw", Disk: &disk.Spec{Name: "disk-b", Serial: "WD-123", MediaID: "B"}},
	}
	return c
}

func TestSaveLoadRoundTripKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	c := validConfig()
	c.BandwidthLimit = 40e6
	if err := Save(p, c); err != nil {
		t.Fatal(err)
	}
	c.Sources[0].Workers = 4
	if err := Save(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sources[0].Workers != 4 || got.BandwidthLimit != 40e6 || got.Sources[0].Completion.StableFor.Std() != time.Minute {
		t.Fatalf("round trip lost values: %+v", got)
	}
	prev, err := Load(p + ".prev")
	if err != nil {
		t.Fatal(err)
	}
	if prev.Sources[0].Workers != 16 {
		t.Fatalf("previous version not kept: workers=%d", prev.Sources[0].Workers)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(p)
	if !strings.Contains(string(raw), `"bandwidth_limit": "40MB/s"`) {
		t.Fatalf("rate not written readably:\n%s", raw)
	}
}

func TestParseFillsSourceDefaults(t *testing.T) {
	c, err := Parse([]byte(`{"version":1,"gateway_id":"gw1","staging_dir":"/s","secrets_dir":"/k",
	  "sources":[{"name":"emr","host":"10.0.0.5","user":"u","key_file":"k","known_hosts":["` + knownHost + `"],"export_dir":"/export"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sources[0]
	if s.Port != 22 || s.Connections != 2 || s.Workers != 16 || !s.Mirror || s.Completion.Mode != CompletionStable || len(s.Include) != 1 {
		t.Fatalf("defaults not applied: %+v", s)
	}
}

func TestParseRejectsUnknownField(t *testing.T) {
	_, err := Parse([]byte(`{"version":1,"stagin_dir":"/s"}`))
	if err == nil || !strings.Contains(err.Error(), "stagin_dir") {
		t.Fatalf("misspelt key not reported: %v", err)
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(c *Config)
	}{
		{"version", func(c *Config) { c.Version = 9 }},
		{"gateway_id", func(c *Config) { c.GatewayID = "gw 1" }},
		{"staging_dir", func(c *Config) { c.StagingDir = "staging" }},
		{"sources[0].name", func(c *Config) { c.Sources[0].Name = "../x" }},
		{"sources[1].name", func(c *Config) { c.Sources = append(c.Sources, c.Sources[0]) }},
		{"sources[0].host", func(c *Config) { c.Sources[0].Host = "" }},
		{"sources[0].port", func(c *Config) { c.Sources[0].Port = 70000 }},
		{"sources[0].user", func(c *Config) { c.Sources[0].User = "" }},
		{"sources[0].key_file", func(c *Config) { c.Sources[0].KeyFile = "-----BEGIN OPENSSH PRIVATE KEY-----" }},
		{"sources[0].known_hosts", func(c *Config) { c.Sources[0].KnownHosts = nil }},
		{"sources[0].known_hosts[0]", func(c *Config) { c.Sources[0].KnownHosts = []string{"not a key"} }},
		{"sources[0].export_dir", func(c *Config) { c.Sources[0].ExportDir = "export" }},
		{"sources[0].include[0]", func(c *Config) { c.Sources[0].Include = []string{"db/[.dmp"} }},
		{"sources[0].exclude[0]", func(c *Config) { c.Sources[0].Exclude = []string{"/abs"} }},
		{"sources[0].completion.mode", func(c *Config) { c.Sources[0].Completion.Mode = "maybe" }},
		{"sources[0].completion.marker", func(c *Config) {
			c.Sources[0].Completion = Completion{Mode: CompletionMarker, Marker: "a/b"}
		}},
		{"sources[0].completion.stable_for", func(c *Config) { c.Sources[0].Completion.StableFor = 0 }},
		{"sources[0].connections", func(c *Config) { c.Sources[0].Connections = 0 }},
		{"sources[0].workers", func(c *Config) { c.Sources[0].Workers = 1000 }},
		{"relays[1].name", func(c *Config) { c.Relays[1].Name = "r1" }},
		{"media[0].relay", func(c *Config) { c.Media[0].Relay = "nope" }},
		{"media[1].relay", func(c *Config) { c.Media[1].Relay = "r1" }},
		{"media[0].disk", func(c *Config) { c.Media[0].Disk = nil }},
		{"media[0].type", func(c *Config) { c.Media[0].Type = "floppy" }},
		{"media[0].password_file", func(c *Config) { c.Media[0].PasswordFile = "" }},
		{"retention.keep_last", func(c *Config) { c.Retention.KeepLast = 0 }},
		{"rotation.per_cycle", func(c *Config) { c.Rotation.PerCycle = 3 }},
		{"offsite.max_all_home", func(c *Config) { c.Offsite.MaxAllHome = Duration(time.Hour) }},
		{"offsite.expected", func(c *Config) {
			c.Offsite.Expected = true
			for i := range c.Media {
				c.Media[i].Type, c.Media[i].Disk, c.Media[i].S3 = MediumS3, nil, &s3.Spec{}
			}
		}},
		{"schedule", func(c *Config) { c.Schedule = "nightly" }},
		{"time_zone", func(c *Config) { c.TimeZone = "Mars/Olympus" }},
		{"alerts.webhook.url", func(c *Config) { c.Alerts.Webhook = &alert.WebhookSpec{URL: "ftp://x"} }},
		{"media[0].disk.media_id", func(c *Config) { c.Media[0].Disk.MediaID = "" }},
		{"relays[0].driver", func(c *Config) { c.Relays[0].Driver = "magic" }},
		{"scan.tcp_ports", func(c *Config) { c.Scan.TCPPorts = "22-" }},
		{"scan.rate", func(c *Config) { c.Scan.Rate = 5 }},
		{"scan.public_rate", func(c *Config) { c.Scan.PublicRate = 200000 }},
		{"scan.concurrency", func(c *Config) { c.Scan.Concurrency = -1 }},
		{"scan.snmp_communities[1]", func(c *Config) { c.Scan.SNMPCommunities = []string{"public", "public"} }},
	} {
		c := validConfig()
		tc.edit(c)
		err := c.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: want a ValidationError, got %v", tc.field, err)
			continue
		}
		fe := ve.For(tc.field)
		if len(fe) == 0 {
			t.Errorf("%s: not named in %v", tc.field, err)
			continue
		}
		if fe[0].Text.JA == "" || fe[0].Text.EN == "" || fe[0].Text.JA == fe[0].Text.EN {
			t.Errorf("%s: message not bilingual: %+v", tc.field, fe[0])
		}
	}
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

func TestSaveRefusesInvalidAndKeepsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	if err := Save(p, validConfig()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	bad := validConfig()
	bad.Sources[0].Port = 0
	if err := Save(p, bad); err == nil {
		t.Fatal("invalid configuration saved")
	}
	after, _ := os.ReadFile(p)
	if string(before) != string(after) {
		t.Fatal("a refused save changed the file")
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[string]Rate{"0": 0, "40MB/s": 40e6, "1.5MB/s": 1.5e6, "800KB/s": 800e3, "1GB/s": 1e9} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"fast", "-3MB/s", "40 mbit"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// A configuration error read through Load keeps each language whole: the
// file, the heading and each field's problem, with no word of the other
// language (the page picks one).
func TestLoadErrorInEachLanguage(t *testing.T) {
	c := validConfig()
	c.Version = 9
	c.Media[1].Relay = "r1"
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	if err == nil {
		t.Fatal("invalid configuration loaded")
	}
	ja, en := msg.In(err, msg.JA), msg.In(err, msg.EN)
	for _, want := range []string{p + ": 設定に誤りがあります:", "version: この版は設定形式 1 のみ扱えます(9 が指定されています)",
		`media[1].relay: リレー "r1" は媒体 "disk-a" と共用です`} {
		if !strings.Contains(ja, want) {
			t.Errorf("Japanese lacks %q:\n%s", want, ja)
		}
	}
	for _, want := range []string{p + ": the configuration is invalid:", "version: this build reads configuration version 1, the file says 9",
		`media[1].relay: relay "r1" also powers medium "disk-a"`} {
		if !strings.Contains(en, want) {
			t.Errorf("English lacks %q:\n%s", want, en)
		}
	}
	if strings.Contains(ja, "invalid") || regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`).MatchString(en) {
		t.Errorf("a language holds the other:\n%s\n%s", ja, en)
	}
	var v *ValidationError
	if !errors.As(err, &v) || len(v.For("version")) != 1 {
		t.Errorf("errors.As does not find the field errors: %v", err)
	}
}
