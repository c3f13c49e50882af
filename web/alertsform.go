package web

import (
	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// alertsItem edits where alerts go. The form edits copies of the mail and
// webhook settings; commit drops a channel whose address is left empty,
// so clearing the server or URL turns that channel off. Only names of
// secret files are edited here, never a password or token.
func alertsItem(c *config.Config, _ string) (item, bool) {
	var mail alert.EmailSpec
	if c.Alerts.Email != nil {
		mail = *c.Alerts.Email
	}
	var hook alert.WebhookSpec
	if c.Alerts.Webhook != nil {
		hook = *c.Alerts.Webhook
	}
	mailSec := msg.T("メール(SMTP、STARTTLS 必須)", "Mail (SMTP, STARTTLS required)")
	hookSec := msg.T("Webhook", "Webhook")
	allSec := msg.T("共通", "Both")
	var b bindings
	g, s := bindString(&mail.Server)
	b.add(mailSec, "email.server", msg.T("SMTPサーバ", "SMTP server"), msg.T("空欄でメール通知なし", "empty: no mail"), textField, g, s)
	g, s = bindInt(&mail.Port)
	b.add(mailSec, "email.port", msg.T("ポート", "Port"), msg.T("0 は 587", "0 means 587"), numberField, g, s)
	g, s = bindString(&mail.Username)
	b.add(mailSec, "email.username", msg.T("ユーザー名", "User name"), msg.Text{}, textField, g, s)
	g, s = bindString(&mail.PasswordFile)
	b.add(mailSec, "email.password_file", msg.T("パスワードファイル", "Password file"), msg.T("secrets 内のファイル名(0600)。パスワード自体は入力しません", "a file name under secrets (0600); never the password itself"), textField, g, s)
	g, s = bindString(&mail.From)
	b.add(mailSec, "email.from", msg.T("差出人", "From"), msg.Text{}, textField, g, s)
	g, s = bindLines(&mail.To)
	b.add(mailSec, "email.to", msg.T("宛先(1行に1つ)", "To (one per line)"), msg.Text{}, linesField, g, s)
	g, s = bindString(&mail.CAFile)
	b.add(mailSec, "email.ca_file", msg.T("CA証明書ファイル", "CA file"), msg.T("院内のメールサーバ用(任意)", "for an on-premise mail server (optional)"), textField, g, s)
	g, s = bindString(&hook.URL)
	b.add(hookSec, "webhook.url", msg.T("URL", "URL"), msg.T("空欄で Webhook なし", "empty: no webhook"), textField, g, s)
	g, s = bindString(&hook.TokenFile)
	b.add(hookSec, "webhook.token_file", msg.T("トークンファイル", "Token file"), msg.T("secrets 内のファイル名(0600、https のみ)", "a file name under secrets (0600; https only)"), textField, g, s)
	g, s = bindString(&hook.CAFile)
	b.add(hookSec, "webhook.ca_file", msg.T("CA証明書ファイル", "CA file"), msg.Text{}, textField, g, s)
	g, s = bindDuration(&c.Alerts.RepeatInterval)
	b.add(allSec, "repeat_interval", msg.T("同じ通知の再送間隔", "Repeat a standing alert every"), msg.T("空欄は 4時間", "empty means 4 hours"), durationField, g, s)
	commit := func() {
		c.Alerts.Email, c.Alerts.Webhook = nil, nil
		if mail.Server != "" {
			m := mail
			c.Alerts.Email = &m
		}
		if hook.URL != "" {
			h := hook
			c.Alerts.Webhook = &h
		}
	}
	return item{prefix: "alerts", binds: b, commit: commit}, true
}
