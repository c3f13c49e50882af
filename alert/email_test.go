package alert

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

const smtpPassword = "pässwörd-秘密"

func emailSpec(s *smtpd, caFile, passwordFile string) *EmailSpec {
	return &EmailSpec{
		Server: "127.0.0.1", Port: s.port(),
		Username: "danzen@example.jp", PasswordFile: passwordFile,
		From:   "danzen@example.jp",
		To:     []string{"it@hospital.example.jp", "情報システム担当 <vendor@example.jp>"},
		CAFile: caFile, Timeout: 0,
	}
}

func TestEmailSTARTTLSDeliversJapaneseAfterTLS(t *testing.T) {
	pki := newPKI(t)
	srv := startSMTPD(t, &smtpd{tls: pki.server, user: "danzen@example.jp", pass: smtpPassword})
	env := newEnv(t)
	pw := writeSecret(t, env.dir, "smtp.pass", smtpPassword+"\n", 0o600)
	n := mustNew(t, Spec{Email: emailSpec(srv, pki.caFile, pw)}, env.opts(t))

	a := MediumNotOff("gw1", "disk-a", env.clock.Now(), msg.Plain("sense input still reads ON"))
	if err := n.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}

	checkMessage(t, a, sentOverTLS(t, srv).data)
}

// sentOverTLS checks that srv received one message, and nothing but EHLO
// and STARTTLS before TLS, and returns the message.
func sentOverTLS(t *testing.T, srv *smtpd) smtpMsg {
	t.Helper()
	conns, cmds, auths, msgs := srv.snapshot()
	if conns != 1 || len(msgs) != 1 {
		t.Fatalf("conns=%d msgs=%d, want 1 and 1", conns, len(msgs))
	}
	// Nothing but EHLO and STARTTLS may happen before TLS.
	sawTLS := false
	for _, c := range cmds {
		if c.verb == "STARTTLS" {
			sawTLS = true
		}
		if !c.tls && c.verb != "EHLO" && c.verb != "STARTTLS" {
			t.Errorf("%s sent before TLS", c.verb)
		}
	}
	if !sawTLS {
		t.Error("STARTTLS was not used")
	}
	if len(auths) != 1 || !auths[0].tls || auths[0].user != "danzen@example.jp" || auths[0].pass != smtpPassword || auths[0].mech != "PLAIN" {
		t.Fatalf("auths = %+v, want one PLAIN over TLS with the file's password (final newline dropped)", auths)
	}
	m := msgs[0]
	if !m.tls || m.from != "danzen@example.jp" || strings.Join(m.to, ",") != "it@hospital.example.jp,vendor@example.jp" {
		t.Fatalf("envelope = tls:%v from:%q to:%q", m.tls, m.from, m.to)
	}
	return m
}

// sentMail is a message as a mail client reads it: its headers and its
// decoded text.
type sentMail struct {
	mail.Header
	body string
}

func readMail(t *testing.T, data []byte) sentMail {
	t.Helper()
	parsed, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(parsed.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return sentMail{parsed.Header, string(body)}
}

// checkMessage checks that data is a's 7-bit MIME message, Japanese first.
func checkMessage(t *testing.T, a Alert, data []byte) {
	t.Helper()
	// The message must be 7-bit with short lines: Japanese only inside encodings.
	for i, line := range strings.Split(string(data), "\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes", i+1, len(line))
		}
		for _, b := range []byte(line) {
			if b >= 0x80 {
				t.Fatalf("line %d has 8-bit byte: %q", i+1, line)
			}
		}
	}

	parsed := readMail(t, data)
	subj, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subj != a.Subject() || !strings.Contains(subj, "【重大】媒体 disk-a の電源遮断を確認できません") {
		t.Errorf("subject = %q", subj)
	}
	if strings.Index(subj, "電源遮断") > strings.Index(subj, "not verified") {
		t.Errorf("subject not Japanese first: %q", subj)
	}
	mt, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type = %q", parsed.Header.Get("Content-Type"))
	}
	if parsed.Header.Get("MIME-Version") != "1.0" || parsed.Header.Get("Content-Transfer-Encoding") != "base64" {
		t.Errorf("MIME headers: %v", parsed.Header)
	}
	if parsed.Header.Get("Importance") != "high" || parsed.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("priority headers: %v", parsed.Header)
	}
	if _, err := parsed.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	to, err := parsed.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "情報システム担当" {
		t.Errorf("To = %v, %v", to, err)
	}
	text := parsed.body
	if text != strings.ReplaceAll(a.Text(tokyo), "\n", "\r\n") {
		t.Errorf("body = %q", text)
	}
	for _, want := range []string{"ランサムウェア", "ransomware", "sense input still reads ON", "2026-05-01 11:13:00 JST"} {
		if !strings.Contains(text, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if strings.Index(text, "至急") > strings.Index(text, "check the relay") {
		t.Error("body is not Japanese first")
	}
}

func TestEmailRefusesServerWithoutSTARTTLS(t *testing.T) {
	srv := startSMTPD(t, &smtpd{user: "danzen@example.jp", pass: smtpPassword}) // no TLS at all
	env := newEnv(t)
	pw := writeSecret(t, env.dir, "smtp.pass", smtpPassword, 0o600)
	n := mustNew(t, Spec{Email: emailSpec(srv, "", pw)}, env.opts(t))

	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Plain("x")))
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Channel != "email" || ce.Attempts != 1 {
		t.Fatalf("err = %v, want one email ChannelError after 1 attempt", err)
	}
	if !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("error does not explain: %v", err)
	}
	conns, cmds, auths, msgs := srv.snapshot()
	if conns != 1 || len(auths) != 0 || len(msgs) != 0 {
		t.Fatalf("conns=%d auths=%+v msgs=%d: credentials or mail went out in plaintext", conns, auths, len(msgs))
	}
	for _, c := range cmds {
		if c.verb != "EHLO" && c.verb != "QUIT" {
			t.Errorf("unexpected %s without TLS", c.verb)
		}
	}
	if s := env.sl.got(); len(s) != 0 {
		t.Errorf("retried a permanent refusal: sleeps %v", s)
	}
}

func TestEmailImplicitTLSWithLoginFallback(t *testing.T) {
	pki := newPKI(t)
	srv := startSMTPD(t, &smtpd{tls: pki.server, implicit: true, user: "u", pass: "p"})
	env := newEnv(t)
	pw := writeSecret(t, env.dir, "smtp.pass", "p", 0o400)
	spec := emailSpec(srv, pki.caFile, pw)
	spec.TLS, spec.Username = TLSImplicit, "u"
	n := mustNew(t, Spec{Email: spec}, env.opts(t))
	if err := n.Send(context.Background(), LedgerFailed("gw1", env.clock.Now(), msg.Plain("chain broken at line 7"))); err != nil {
		t.Fatal(err)
	}
	_, cmds, auths, msgs := srv.snapshot()
	if len(msgs) != 1 || !msgs[0].tls || len(auths) != 1 || !auths[0].tls {
		t.Fatalf("msgs=%d auths=%+v", len(msgs), auths)
	}
	for _, c := range cmds {
		if !c.tls || c.verb == "STARTTLS" {
			t.Errorf("%+v: implicit TLS expected from the first byte", c)
		}
	}
}

func TestEmailRejectedCredentialsAreNotRetried(t *testing.T) {
	pki := newPKI(t)
	srv := startSMTPD(t, &smtpd{tls: pki.server, user: "danzen@example.jp", pass: "right"})
	env := newEnv(t)
	pw := writeSecret(t, env.dir, "smtp.pass", "wrong", 0o600)
	n := mustNew(t, Spec{Email: emailSpec(srv, pki.caFile, pw)}, env.opts(t))
	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	if err == nil || !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("err = %v, want the 535 from AUTH", err)
	}
	if conns, _, _, msgs := srv.snapshot(); conns != 1 || len(msgs) != 0 {
		t.Errorf("conns=%d msgs=%d, want 1 and 0", conns, len(msgs))
	}
}

func TestEmailUntrustedCertificateStopsBeforeAuth(t *testing.T) {
	pki := newPKI(t)
	srv := startSMTPD(t, &smtpd{tls: pki.server, user: "danzen@example.jp", pass: smtpPassword})
	env := newEnv(t)
	pw := writeSecret(t, env.dir, "smtp.pass", smtpPassword, 0o600)
	n := mustNew(t, Spec{Email: emailSpec(srv, "", pw)}, env.opts(t)) // system roots only
	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Attempts != 1 || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want a certificate failure in STARTTLS, not retried", err)
	}
	if _, _, auths, msgs := srv.snapshot(); len(auths) != 0 || len(msgs) != 0 {
		t.Errorf("auths=%+v msgs=%d after a failed handshake", auths, len(msgs))
	}
}

func TestEmailSecretFileReadableByOthersIsRefused(t *testing.T) {
	pki := newPKI(t)
	srv := startSMTPD(t, &smtpd{tls: pki.server, user: "danzen@example.jp", pass: smtpPassword})
	env := newEnv(t)
	pw := writeSecret(t, env.dir, "smtp.pass", smtpPassword, 0o644)
	n := mustNew(t, Spec{Email: emailSpec(srv, pki.caFile, pw)}, env.opts(t))
	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	if err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("err = %v, want a complaint about the mode", err)
	}
	if strings.Contains(err.Error(), smtpPassword) {
		t.Fatal("the error shows the password")
	}
	if conns, _, _, _ := srv.snapshot(); conns != 0 {
		t.Errorf("connected %d times with an unusable secret", conns)
	}
}

func TestEncodeSubjectFoldsLongJapanese(t *testing.T) {
	s := strings.Repeat("電源遮断を確認できません", 8)
	enc := encodeSubject(s)
	for _, l := range strings.Split(enc, "\r\n") {
		if len(l) > 77 {
			t.Errorf("folded line is %d chars: %q", len(l), l)
		}
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(enc, "\r\n", ""))
	if err != nil || dec != s {
		t.Fatalf("round trip = %q, %v", dec, err)
	}
	if got := encodeSubject("a\r\nBcc: x@example.jp"); strings.Contains(got, "\n") && !strings.HasPrefix(got, "=?") {
		t.Errorf("header injection possible: %q", got)
	}
}

// A Send that outlives its context gives up instead of hanging on SMTP.
func TestEmailHonoursContext(t *testing.T) {
	env := newEnv(t)
	// A listener that accepts and never greets.
	ln := mustListen(t)
	defer closeQuietly(ln)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer closeQuietly(c)
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	spec := &EmailSpec{Server: "127.0.0.1", Port: portOf(ln), TLS: TLSStartTLS, From: "a@example.jp", To: []string{"b@example.jp"}}
	n := mustNew(t, Spec{Email: spec, Attempts: 1}, env.opts(t))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := n.Send(ctx, CycleMissed("gw1", env.clock.Now(), env.clock.Now(), tokyo))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}
