package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/relay"
)

// checkedConfig is a complete configuration whose source and relays do
// not exist: checking it must touch neither.
func checkedConfig(dir string) *config.Config {
	c := config.Default()
	c.StagingDir, c.SecretsDir, c.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	s := config.DefaultSource()
	s.Name, s.Host, s.User, s.KeyFile, s.ExportDir = "emr", "192.0.2.1", "danzen-pull", "emr.key", "/export" // TEST-NET: nobody answers
	s.KnownHosts = []string{"[192.0.2.1]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}
	c.Sources = []config.Source{s}
	c.Relays = []relay.Spec{
		{Name: "relay-disk-a", Driver: relay.DriverGPIO, Chip: "gpiochip99", Line: 17, Sense: &relay.SenseSpec{Chip: "gpiochip99", Line: 27}},
		{Name: "relay-disk-b", Driver: relay.DriverGPIO, Chip: "gpiochip99", Line: 18, Sense: &relay.SenseSpec{Chip: "gpiochip99", Line: 22}},
	}
	return c
}

func writeCheckedConfig(t *testing.T, dir string, c *config.Config) string {
	t.Helper()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var japanese = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)

func TestConfigCheckPrintsEveryErrorAndFails(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	good := writeCheckedConfig(t, dir, checkedConfig(dir))
	out, code := run(t, bin, "config", "check", "--config", good)
	if code != 0 || !strings.Contains(out, "誤りはありません / no problems found") {
		t.Fatalf("a good file (whose server and GPIO chip do not exist): exit %d\n%s", code, out)
	}

	c := checkedConfig(dir)
	c.CheckSubset = "150%"
	c.Relays[0].Line, c.Relays[0].Sense.Line = 18, 22 // relay-disk-a moved onto relay-disk-b's lines
	c.Sources[0].KeyFile = "../../../etc/ssh/ssh_host_ed25519_key"
	bad := writeCheckedConfig(t, t.TempDir(), c)
	fields := []string{"check_read_data_subset", "relays[1].line", "relays[1].sense.line", "sources[0].key_file"}
	for _, lang := range []string{"en", "ja"} {
		out, code := run(t, bin, "--lang", lang, "config", "check", "--config", bad)
		if code != 1 {
			t.Errorf("--lang %s: exit %d, want 1\n%s", lang, code, out)
		}
		for _, f := range fields {
			if !strings.Contains(out, "  "+f+": ") {
				t.Errorf("--lang %s: %s not listed:\n%s", lang, f, out)
			}
		}
		if (lang == "en") == japanese.MatchString(out) {
			t.Errorf("--lang %s: in the wrong language:\n%s", lang, out)
		}
	}
	out, _ = run(t, bin, "config", "check", "--config", bad)
	if !strings.Contains(out, "4 problems") || !strings.Contains(out, "at most 100%") || !strings.Contains(out, "100% まで") {
		t.Errorf("LANG=C says both languages:\n%s", out)
	}
}

func TestConfigCheckSaysWhatIsWrongWithTheFile(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runIn(t, "en_US.UTF-8", bin, "config", "check", "--config", empty)
	if code != 1 || !strings.Contains(out, "the configuration file is empty") || strings.Contains(out, "EOF") {
		t.Errorf("empty file: exit %d\n%s", code, out)
	}
	none := checkedConfig(dir)
	none.Sources = nil
	p := writeCheckedConfig(t, t.TempDir(), none)
	out, code = runIn(t, "ja_JP.UTF-8", bin, "config", "check", "--config", p)
	if code != 1 || !strings.Contains(out, "sources: 取得元(電子カルテサーバ)がありません。取得元を1つ以上追加してください") {
		t.Errorf("no source: exit %d\n%s", code, out)
	}
	if out, code := run(t, bin, "config", "verify", "--config", p); code != 2 || !strings.Contains(out, "config check --config FILE") {
		t.Errorf("unknown sub-command: exit %d\n%s", code, out)
	}
}

func TestPullRefusesAConfigurationWithNoSources(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	none := checkedConfig(dir)
	none.Sources = nil
	p := writeCheckedConfig(t, dir, none)
	out, code := runIn(t, "en_US.UTF-8", bin, "pull", "--config", p)
	if code == 0 || !strings.Contains(out, "add at least one") {
		t.Fatalf("pull without a source: exit %d\n%s", code, out)
	}
}
