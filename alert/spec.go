package alert

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/fielderr"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Defaults applied where a Spec field is zero.
const (
	DefaultRepeatInterval = 4 * time.Hour
	DefaultAttempts       = 3
	DefaultSMTPPort       = 587
	DefaultEmailTimeout   = 30 * time.Second
	DefaultWebhookTimeout = 10 * time.Second
)

// TLS modes of the mail channel.
const (
	TLSStartTLS = "starttls" // default: plain connect, STARTTLS required before anything else
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS at all; only for an on-premise relay, never with credentials
)

// Spec configures the alert channels. It holds no secret, only names of
// secret files; relative file names (secrets and CA files) resolve against
// the secrets directory (Options.SecretsDir). Without a channel it is
// valid and sends nothing (see Enabled).
type Spec struct {
	// Email sends alerts by mail; absent, no mail is sent.
	Email *EmailSpec `json:"email,omitempty"`
	// Webhook posts alerts to a URL; absent, none is posted.
	Webhook *WebhookSpec `json:"webhook,omitempty"`
	// RepeatInterval: a condition that persists (same dedup key) is sent
	// again at most this often; 0 takes the default.
	RepeatInterval duration.Duration `json:"repeat_interval,omitempty"`
	// Attempts is how often each channel tries to send one alert when
	// failures are transient; 0 takes the default.
	Attempts int `json:"attempts,omitempty"`
}

// EmailSpec is mail over SMTP submission.
type EmailSpec struct {
	// Server is the SMTP server's host name or IP address, without the
	// port.
	Server string `json:"server"`
	// Port is the SMTP server's port; 0 takes the default, 587.
	Port int `json:"port,omitempty"`
	// TLS is "starttls" (the default when empty: STARTTLS before anything
	// else), "implicit" (TLS from the first byte, port 465) or "none"
	// (an on-premise relay only, never with a login).
	TLS string `json:"tls,omitempty"`
	// Username logs in to the server; empty sends without logging in.
	Username string `json:"username,omitempty"`
	// PasswordFile holds the SMTP password (mode 0600). Required with Username.
	PasswordFile string `json:"password_file,omitempty"`
	// From is the sender's address.
	From string `json:"from"`
	// To are the recipients' addresses.
	To []string `json:"to"`
	// CAFile (PEM) replaces the system roots, for an on-premise mail
	// server with its own CA.
	CAFile string `json:"ca_file,omitempty"`
	// Timeout bounds one SMTP session; 0 takes the default.
	Timeout duration.Duration `json:"timeout,omitempty"`
}

// WebhookSpec is an HTTP POST of the alert as JSON.
type WebhookSpec struct {
	// URL receives the POST; an on-premise http:// URL may not carry a
	// token.
	URL string `json:"url"`
	// TokenFile holds a bearer token (mode 0600); needs an https URL.
	TokenFile string `json:"token_file,omitempty"`
	// CAFile (PEM) replaces the system roots.
	CAFile string `json:"ca_file,omitempty"`
	// Timeout bounds one request; 0 takes the default.
	Timeout duration.Duration `json:"timeout,omitempty"`
}

// Enabled reports whether any channel is configured.
func (s Spec) Enabled() bool { return s.Email != nil || s.Webhook != nil }

// FieldError says what is wrong with one field. Field is relative to the
// Spec ("email.port"); an embedding schema prefixes its own path.
type FieldError = fielderr.Error

// ValidationError lists every problem found.
type ValidationError = fielderr.List

type checker struct{ fielderr.List }

// Validate returns a *ValidationError naming each bad field, or nil. It
// does not touch the file system; New reads the CA files.
func (s Spec) Validate() error {
	v := checker{fielderr.List{Title: msg.T("通知の設定に誤りがあります:", "the alert configuration is invalid:")}}
	if r := s.RepeatInterval.Std(); r != 0 && (r < time.Minute || r > 7*24*time.Hour) {
		v.Add("repeat_interval", "0(既定の4時間)か、1分〜7日にしてください", "use 0 (default 4h) or 1m–7d")
	}
	if s.Attempts < 0 || s.Attempts > 10 {
		v.Add("attempts", "0(既定の3回)か1〜10にしてください", "use 0 (default 3) or 1–10")
	}
	if s.Email != nil {
		v.email("email", s.Email)
	}
	if s.Webhook != nil {
		v.webhook("webhook", s.Webhook)
	}
	return v.Err()
}

func (v *checker) email(f string, e *EmailSpec) {
	switch {
	case e.Server == "" || strings.ContainsAny(e.Server, " \t/@"):
		v.Add(f+".server", "SMTPサーバのホスト名またはIPアドレスを指定してください", "give the SMTP server's host name or IP address")
	case strings.Contains(e.Server, ":") && net.ParseIP(e.Server) == nil:
		v.Add(f+".server", "ポート番号は port に分けて指定してください", "give the port separately in port")
	}
	if e.Port < 0 || e.Port > 65535 {
		v.Add(f+".port", "ポート番号は1〜65535です(通常は587)", "port must be 1–65535 (usually 587)")
	}
	switch e.TLS {
	case "", TLSStartTLS, TLSImplicit:
	case TLSNone:
		if e.Username != "" || e.PasswordFile != "" {
			v.Add(f+".tls", "暗号化なし(none)では認証情報を送れません。\"starttls\" か \"implicit\" にしてください",
				"credentials are never sent without TLS: use \"starttls\" or \"implicit\"")
		}
	default:
		v.Add(f+".tls", "\"starttls\"、\"implicit\"、\"none\" のいずれかを指定してください", "must be \"starttls\", \"implicit\" or \"none\"")
	}
	if e.Username != "" && e.PasswordFile == "" {
		v.Add(f+".password_file", "パスワードファイル(secrets内、0600)を指定してください。パスワードそのものは設定に書きません",
			"give the password file (under secrets, mode 0600); the password itself never goes into the configuration")
	}
	if e.PasswordFile != "" && e.Username == "" {
		v.Add(f+".username", "パスワードファイルと組になるユーザ名を指定してください", "give the user name that goes with the password file")
	}
	if a, err := mail.ParseAddress(e.From); err != nil || !asciiAddr(a.Address) {
		v.AddText(f+".from", msg.Sprintf("送信元メールアドレスとして読めません: %q", "not a valid sender address: %q", e.From))
	}
	if len(e.To) == 0 {
		v.Add(f+".to", "宛先メールアドレスを1つ以上指定してください", "give at least one recipient")
	}
	for i, t := range e.To {
		if a, err := mail.ParseAddress(t); err != nil || !asciiAddr(a.Address) {
			v.AddText(fmt.Sprintf("%s.to[%d]", f, i), msg.Sprintf("宛先メールアドレスとして読めません: %q", "not a valid recipient address: %q", t))
		}
	}
	v.timeout(f+".timeout", e.Timeout)
}

func (v *checker) webhook(f string, w *WebhookSpec) {
	u, err := url.Parse(w.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.Add(f+".url", "http:// または https:// で始まるURLを指定してください", "give a URL starting with http:// or https://")
	case u.User != nil:
		v.Add(f+".url", "URLに認証情報を含めないでください。トークンは token_file に置きます",
			"do not put credentials in the URL; put a token in token_file")
	case u.Scheme == "http" && w.TokenFile != "":
		v.Add(f+".token_file", "トークンを暗号化なし(http)で送ることはできません。https のURLにしてください",
			"a token is never sent over plain http: use an https URL")
	}
	v.timeout(f+".timeout", w.Timeout)
}

func (v *checker) timeout(f string, d duration.Duration) {
	if t := d.Std(); t != 0 && (t < time.Second || t > 5*time.Minute) {
		v.Add(f, "0(既定値)か、1秒〜5分にしてください", "use 0 (default) or 1s–5m")
	}
}

// asciiAddr: the envelope is sent without SMTPUTF8, which not every
// on-premise server offers.
func asciiAddr(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
