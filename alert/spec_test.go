package alert

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func goodSpec() Spec {
	return Spec{
		Email: &EmailSpec{Server: "mail.hospital.example.jp", Username: "danzen", PasswordFile: "smtp.pass",
			From: "danzen@hospital.example.jp", To: []string{"it@hospital.example.jp"}},
		Webhook: &WebhookSpec{URL: "https://chat.example.jp/hook", TokenFile: "hook.token", Timeout: durationOf(5 * time.Second)},
	}
}

func TestValidateAcceptsGoodAndEmpty(t *testing.T) {
	for name, s := range map[string]Spec{"good": goodSpec(), "empty": {}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The Spec reads and writes as the configuration file would hold it.
	in := `{"email":{"server":"10.0.0.5","port":465,"tls":"implicit","from":"a@example.jp","to":["b@example.jp"],"ca_file":"mail-ca.pem","timeout":"20s"},` +
		`"webhook":{"url":"http://10.0.0.6/alert"},"repeat_interval":"30m","attempts":5}`
	var s Spec
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.RepeatInterval.Std() != 30*time.Minute || s.Email.Timeout.Std() != 20*time.Second || s.Email.TLS != TLSImplicit {
		t.Errorf("parsed %+v %+v", s, s.Email)
	}
	out, _ := json.Marshal(s)
	var back Spec
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("round trip: %s, %v", out, err)
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(*Spec)
		fields []string
		enHint string
	}{
		{"credentials over plaintext", func(s *Spec) { s.Email.TLS = TLSNone }, []string{"email.tls"}, "never sent without TLS"},
		{"unknown tls", func(s *Spec) { s.Email.TLS = "ssl" }, []string{"email.tls"}, "starttls"},
		{"user without password file", func(s *Spec) { s.Email.PasswordFile = "" }, []string{"email.password_file"}, "never goes into the configuration"},
		{"password file without user", func(s *Spec) { s.Email.Username = "" }, []string{"email.username"}, "user name"},
		{"port in server", func(s *Spec) { s.Email.Server = "mail.example.jp:587" }, []string{"email.server"}, "port separately"},
		{"no server", func(s *Spec) { s.Email.Server = "" }, []string{"email.server"}, "host name"},
		{"bad port", func(s *Spec) { s.Email.Port = 70000 }, []string{"email.port"}, "1–65535"},
		{"bad from", func(s *Spec) { s.Email.From = "danzen" }, []string{"email.from"}, "sender"},
		{"no recipients", func(s *Spec) { s.Email.To = nil }, []string{"email.to"}, "at least one"},
		{"bad recipient", func(s *Spec) { s.Email.To = append(s.Email.To, "it@@x") }, []string{"email.to[1]"}, "it@@x"},
		{"email timeout", func(s *Spec) { s.Email.Timeout = durationOf(10 * time.Minute) }, []string{"email.timeout"}, "1s–5m"},
		{"webhook scheme", func(s *Spec) { s.Webhook.URL = "ftp://example.jp/" }, []string{"webhook.url"}, "https://"},
		{"webhook userinfo", func(s *Spec) { s.Webhook.URL = "https://u:p@example.jp/" }, []string{"webhook.url"}, "token_file"},
		{"token over http", func(s *Spec) { s.Webhook.URL = "http://example.jp/" }, []string{"webhook.token_file"}, "plain http"},
		{"repeat interval", func(s *Spec) { s.RepeatInterval = durationOf(10 * time.Second) }, []string{"repeat_interval"}, "1m–7d"},
		{"attempts", func(s *Spec) { s.Attempts = 11 }, []string{"attempts"}, "1–10"},
		{"several at once", func(s *Spec) { s.Attempts = -1; s.Email.Port = -1; s.Webhook.URL = "" },
			[]string{"attempts", "email.port", "webhook.url"}, ""},
	}
	for _, c := range cases {
		s := goodSpec()
		c.mod(&s)
		err := s.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v", c.name, err)
			continue
		}
		var got []string
		for _, f := range ve.Fields {
			got = append(got, f.Field)
			if f.Text.JA == "" || f.Text.EN == "" || utf8.RuneCountInString(f.Text.JA) == len(f.Text.JA) {
				t.Errorf("%s: %s lacks a Japanese or English message: %+v", c.name, f.Field, f)
			}
			if c.enHint != "" && !strings.Contains(f.Text.EN, c.enHint) {
				t.Errorf("%s: EN = %q, want it to mention %q", c.name, f.Text.EN, c.enHint)
			}
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, c.fields) {
			t.Errorf("%s: fields %v, want %v", c.name, got, c.fields)
		}
		if msg := err.Error(); !strings.Contains(msg, "通知の設定に誤りがあります") || !strings.Contains(msg, c.fields[0]+": ") {
			t.Errorf("%s: Error() = %q", c.name, msg)
		}
	}
}
