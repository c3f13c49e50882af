package relay_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/relay"
)

func TestSpecJSON(t *testing.T) {
	in := `{"name":"disk-a","driver":"gpio","chip":"pinctrl-rp1","line":17,"active_low":true,` +
		`"sense":{"chip":"pinctrl-rp1","line":27,"active_low":true,"pull":"up"},"on_timeout":"2s","off_timeout":"1m30s"}`
	var s relay.Spec
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	want := relay.Spec{Name: "disk-a", Driver: "gpio", Chip: "pinctrl-rp1", Line: 17, ActiveLow: true,
		Sense:     &relay.SenseSpec{Chip: "pinctrl-rp1", Line: 27, ActiveLow: true, Pull: "up"},
		OnTimeout: relay.Duration(2 * time.Second), OffTimeout: relay.Duration(90 * time.Second)}
	if s.Name != want.Name || s.Line != want.Line || !s.ActiveLow || *s.Sense != *want.Sense ||
		s.OnTimeout != want.OnTimeout || s.OffTimeout != want.OffTimeout || s.Chip != want.Chip {
		t.Fatalf("decoded %+v (sense %+v), want %+v", s, s.Sense, want)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}
	err = json.Unmarshal([]byte(`{"name":"x","on_timeout":"2 fortnights"}`), &s)
	if err == nil || !strings.Contains(err.Error(), "invalid duration") {
		t.Fatalf("bad duration: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := func() relay.Spec {
		return relay.Spec{Name: "disk-a", Driver: "gpio", Chip: "gpiochip0", Line: 4,
			Sense: &relay.SenseSpec{Chip: "gpiochip0", Line: 5}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good spec: %v", err)
	}
	for _, tc := range []struct {
		field, ja, en string
		edit          func(*relay.Spec)
	}{
		{"name", "名前が空です", "name is empty", func(s *relay.Spec) { s.Name = "" }},
		{"name", "英数字", "letters, digits", func(s *relay.Spec) { s.Name = "ディスク a" }},
		{"driver", "不明なドライバ", `unknown driver "gpio2"`, func(s *relay.Spec) { s.Driver = "gpio2" }},
		{"driver", "ドライバが空", "driver is empty", func(s *relay.Spec) { s.Driver = "" }},
		{"chip", "GPIO チップ", "chip (label or device name) is empty", func(s *relay.Spec) { s.Chip = "" }},
		{"line", "0以上", "line offset must be 0 or more", func(s *relay.Spec) { s.Line = -1 }},
		{"sense.chip", "センス入力の GPIO チップ", "sense input GPIO chip is empty", func(s *relay.Spec) { s.Sense.Chip = "" }},
		{"sense.line", "0以上", "sense input line offset", func(s *relay.Spec) { s.Sense.Line = -2 }},
		{"sense.line", "同じライン", "same line as the relay output", func(s *relay.Spec) { s.Sense.Line = 4 }},
		{"sense.pull", "pull は", `pull must be`, func(s *relay.Spec) { s.Sense.Pull = "high" }},
		{"off_timeout", "タイムアウト", "timeout must be", func(s *relay.Spec) { s.OffTimeout = relay.Duration(time.Hour) }},
		{"on_timeout", "タイムアウト", "timeout must be", func(s *relay.Spec) { s.OnTimeout = -1 }},
	} {
		s := good()
		tc.edit(&s)
		err := s.Validate()
		var fe *relay.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a *FieldError", tc.field, err)
			continue
		}
		if fe.Field != tc.field || !strings.Contains(fe.Text.JA, tc.ja) || !strings.Contains(fe.Text.EN, tc.en) {
			t.Errorf("%s: got %+v", tc.field, fe)
		}
		if msg := err.Error(); !strings.Contains(msg, "field "+tc.field) || !strings.Contains(msg, "の "+tc.field) {
			t.Errorf("%s: message %q does not name the field in both languages", tc.field, msg)
		}
	}
	// Every problem is reported, not only the first.
	bad := relay.Spec{Driver: "gpio", Line: -1}
	if n := strings.Count(bad.Validate().Error(), "\n") + 1; n != 3 {
		t.Fatalf("want 3 problems (name, chip, line), got %d: %v", n, bad.Validate())
	}
	// A simulated relay needs no lines: configs copied from hardware still run in a VM.
	if err := (relay.Spec{Name: "vm", Driver: "simulated"}).Validate(); err != nil {
		t.Fatalf("simulated: %v", err)
	}
}
