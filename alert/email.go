package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

type emailChannel struct {
	host, addr   string
	mode         string
	username     string
	passwordPath string
	from         *mail.Address
	to           []*mail.Address
	tls          *tls.Config
	timeout      time.Duration
	dial         DialFunc
	now          func() time.Time
	zone         when.Zone
}

func newEmail(s EmailSpec, o Options) (*emailChannel, error) {
	e := &emailChannel{host: s.Server, mode: s.TLS, username: s.Username, timeout: s.Timeout.Std(), dial: o.Dial, now: o.Now, zone: o.Zone}
	if e.mode == "" {
		e.mode = TLSStartTLS
	}
	port := s.Port
	if port == 0 {
		port = DefaultSMTPPort
	}
	e.addr = net.JoinHostPort(s.Server, strconv.Itoa(port))
	if e.timeout == 0 {
		e.timeout = DefaultEmailTimeout
	}
	var err error
	if s.PasswordFile != "" {
		if e.passwordPath, err = resolvePath(o.SecretsDir, s.PasswordFile); err != nil {
			return nil, err
		}
	}
	if e.tls, err = tlsConfig(s.Server, o.SecretsDir, s.CAFile); err != nil {
		return nil, err
	}
	// Validate has parsed these already.
	e.from, _ = mail.ParseAddress(s.From)
	for _, t := range s.To {
		a, _ := mail.ParseAddress(t)
		e.to = append(e.to, a)
	}
	return e, nil
}

func (e *emailChannel) name() string { return "email" }

func (e *emailChannel) send(ctx context.Context, a Alert) (err error) {
	body := e.message(a)
	var password string
	if e.username != "" {
		if password, err = readSecret(e.passwordPath); err != nil {
			return permanent(err)
		}
	}
	conn, err := e.dial(ctx, "tcp", e.addr)
	if err != nil {
		return msg.Errorf("SMTPサーバ %s に接続できません: %w", "cannot connect to SMTP server %s: %w", e.addr, err)
	}
	defer closeQuietly(conn)
	// net/smtp knows no context: closing the connection is how to stop it.
	defer context.AfterFunc(ctx, func() { _ = conn.Close() })()
	_ = conn.SetDeadline(time.Now().Add(e.timeout))
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = msg.Errorf("%w (%w)", "%w (%w)", err, ctx.Err())
		}
	}()

	helo := ehloName(conn.LocalAddr())
	if e.mode == TLSImplicit {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return msg.Errorf("SMTPサーバ %s とTLS接続できません: %w", "TLS handshake with %s failed: %w", e.addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return e.wrap(msg.T("接続開始", "greeting"), err)
	}
	defer closeQuietly(c)
	if err := c.Hello(helo); err != nil {
		return e.wrap(msg.Plain("HELO"), err)
	}
	if e.mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			_ = c.Quit()
			return permanent(msg.Errorf("SMTPサーバ %s がSTARTTLSに対応していないため送信を中止しました(認証情報や本文を暗号化せずに送らないため)", "SMTP server %s does not offer STARTTLS: refusing to send credentials or mail without TLS", e.addr))
		}
		if err := c.StartTLS(e.tls); err != nil {
			return msg.Errorf("SMTPサーバ %s とのSTARTTLSに失敗しました: %w", "STARTTLS with %s failed: %w", e.addr, err)
		}
	}
	if e.username != "" {
		if err := e.auth(c, password); err != nil {
			return err
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return e.wrap(msg.Plain("MAIL FROM"), err)
	}
	for _, t := range e.to {
		if err := c.Rcpt(t.Address); err != nil {
			return e.wrap(msg.Plain("RCPT TO <"+t.Address+">"), err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return e.wrap(msg.Plain("DATA"), err)
	}
	if _, err := w.Write(body); err != nil {
		return e.wrap(msg.Plain("DATA"), err)
	}
	if err := w.Close(); err != nil {
		return e.wrap(msg.Plain("DATA"), err)
	}
	// The server accepted the message; a failing QUIT does not undo that.
	_ = c.Quit()
	return nil
}

func (e *emailChannel) auth(c *smtp.Client, password string) error {
	// Checked here as well as in the mechanisms, so no future mode can
	// reach AUTH in plaintext.
	if _, ok := c.TLSConnectionState(); !ok {
		return permanent(msg.New("TLSなしでは認証しません", "refusing to authenticate without TLS"))
	}
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return permanent(msg.Errorf("SMTPサーバ %s が認証(AUTH)に対応していません", "SMTP server %s does not offer AUTH", e.addr))
	}
	var m smtp.Auth
	for _, f := range strings.Fields(strings.ToUpper(mechs)) {
		if f == "PLAIN" {
			m = &plainAuth{e.username, password}
			break
		}
		if f == "LOGIN" && m == nil {
			m = &loginAuth{user: e.username, pass: password}
		}
	}
	if m == nil {
		return permanent(msg.Errorf("SMTPサーバ %s の認証方式(%s)に対応していません。PLAIN か LOGIN が必要です", "SMTP server %s offers AUTH %s; PLAIN or LOGIN is needed", e.addr, mechs))
	}
	if err := c.Auth(m); err != nil {
		return e.wrap(msg.Plain("AUTH"), err)
	}
	return nil
}

// wrap names the SMTP step and makes 5xx replies permanent (4xx are the
// server's way of saying "try later").
func (e *emailChannel) wrap(step msg.Text, err error) error {
	err = msg.Errorf("SMTPサーバ %s: %s: %w", "SMTP server %s: %s: %w", e.addr, step, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent(err)
	}
	return err
}

// closeQuietly closes what a send used once its outcome is known (the
// message accepted or the error in hand): a failing Close changes neither.
func closeQuietly(c io.Closer) { _ = c.Close() }

// ehloName is the address literal of our end: RFC 5321 wants a FQDN or
// this, and the appliance has no FQDN of its own.
func ehloName(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "localhost"
	}
	if ta.IP.To4() != nil {
		return "[" + ta.IP.String() + "]"
	}
	return "[IPv6:" + ta.IP.String() + "]"
}

type plainAuth struct{ user, pass string }

func (p *plainAuth) Start(s *smtp.ServerInfo) (string, []byte, error) {
	// Unlike net/smtp's PlainAuth, no exception for localhost.
	if !s.TLS {
		return "", nil, permanent(msg.New("TLSなしでは認証しません", "refusing to authenticate without TLS"))
	}
	return "PLAIN", []byte("\x00" + p.user + "\x00" + p.pass), nil
}

func (p *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected AUTH PLAIN challenge")
	}
	return nil, nil
}

// loginAuth is AUTH LOGIN, which on-premise Exchange servers often offer
// instead of PLAIN.
type loginAuth struct {
	user, pass string
	step       int
}

func (l *loginAuth) Start(s *smtp.ServerInfo) (string, []byte, error) {
	if !s.TLS {
		return "", nil, permanent(msg.New("TLSなしでは認証しません", "refusing to authenticate without TLS"))
	}
	return "LOGIN", nil, nil
}

func (l *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	l.step++
	switch l.step {
	case 1:
		return []byte(l.user), nil
	case 2:
		return []byte(l.pass), nil
	}
	return nil, errors.New("unexpected AUTH LOGIN challenge")
}

// message renders a as a MIME message that Japanese mail clients show
// correctly: encoded-word subject, UTF-8 text in base64 (safe through any
// relay, unlike 8-bit).
func (e *emailChannel) message(a Alert) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	from := *e.from
	if from.Name == "" {
		from.Name = "danzen " + a.GatewayID
	}
	hdr("From", from.String())
	to := make([]string, len(e.to))
	for i, t := range e.to {
		to[i] = t.String()
	}
	hdr("To", strings.Join(to, ",\r\n "))
	hdr("Subject", encodeSubject(a.Subject()))
	hdr("Date", e.zone.Time(e.now()).Format(time.RFC1123Z))
	domain := "danzen.invalid"
	if i := strings.LastIndexByte(e.from.Address, '@'); i >= 0 {
		domain = e.from.Address[i+1:]
	}
	hdr("Message-ID", "<"+rand.Text()+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=UTF-8")
	hdr("Content-Transfer-Encoding", "base64")
	// RFC 3834: tells vacation responders not to answer.
	hdr("Auto-Submitted", "auto-generated")
	hdr("X-Danzen-Gateway", headerSafe(a.GatewayID))
	hdr("X-Danzen-Kind", headerSafe(string(a.Kind)))
	hdr("X-Danzen-Severity", headerSafe(string(a.Severity)))
	if a.Severity == SeverityCritical {
		hdr("X-Priority", "1")
		hdr("Importance", "high")
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(a.Text(e.zone), "\r\n", "\n"), "\n", "\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// encodeSubject B-encodes s and folds between encoded-words, so that no
// header line grows past what strict servers accept.
func encodeSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	enc := mime.BEncoding.Encode("UTF-8", s)
	if enc == s {
		return s
	}
	return strings.ReplaceAll(enc, " ", "\r\n ")
}

// headerSafe keeps a value printable ASCII so that no header can be split.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}
