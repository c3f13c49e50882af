// Package push sends a signed update bundle (gokrazy/bundle) to a
// gateway's own page, the way a vendor's browser would, for `danzen image
// push` and the image acceptance test: over HTTPS, trusting exactly the
// certificate whose SHA-256 fingerprint the vendor pinned (the page shows
// it under /tls), signed in as a vendor admin and typing the password
// again for the update itself. Nothing crosses the LAN in clear: gokrazy's
// plain-HTTP interface is not on the network in an image with an update
// key, and this package never speaks to it.
package push

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Paths and names of the page (package auth and web/update.go).
const (
	loginPath    = "/login"
	updatePath   = "/system/update"
	csrfField    = "csrf_token"
	csrfHeader   = "X-CSRF-Token"
	reauthHeader = "X-Danzen-Password"
)

// Target is a gateway's page and who signs in to it.
type Target struct {
	// URL is the page, e.g. https://192.168.10.5:8443.
	URL string
	// CertSHA256 is the page certificate's SHA-256 as /tls shows it
	// ("AB:CD:…"; colons and case do not matter).
	CertSHA256 string
	User       string
	Password   string
	Logger     *slog.Logger
	// SendAnyKey sends a bundle even when its manifest names another key
	// than the one the gateway pins, for the gateway to refuse and record
	// (the acceptance test does; a person gets the refusal before the
	// upload).
	SendAnyKey bool
}

// Running is what the page's update view says of the running image.
type Running struct {
	Build time.Time
	Key   string // the pinned update key's fingerprint
}

// session is a signed-in client of the page.
type session struct {
	t    Target
	base *url.URL
	hc   *http.Client
}

// ParseFingerprint normalises a certificate fingerprint to 64 hex digits.
func ParseFingerprint(s string) (string, error) {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimPrefix(strings.TrimSpace(s), "SHA256:")))
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return "", msg.Errorf("証明書の指紋 %q は SHA-256(16進64桁、コロン区切り可)ではありません。ゲートウェイの画面の /tls に表示されています",
			"the certificate fingerprint %q is not a SHA-256 (64 hex digits, colons allowed): the gateway's page shows it under /tls", s)
	}
	return h, nil
}

// client trusts only the pinned certificate, keeps the session's cookies
// and does not follow redirects (a redirect to /login is an answer).
func (t Target) client() (*http.Client, *url.URL, error) {
	want, err := ParseFingerprint(t.CertSHA256)
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(strings.TrimRight(t.URL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, nil, msg.Errorf("ゲートウェイの画面のアドレス %q は https://ホスト:ポート の形ではありません", "the gateway's page %q is not https://host:port", t.URL)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, nil, err
	}
	tlsConf := &tls.Config{
		// Self-signed, or signed by the hospital's CA: trusted by the
		// pinned fingerprint below, not by any CA.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := hex.EncodeToString(sum[:]); got != want {
				return msg.Errorf("ゲートウェイの証明書 %s は指定の指紋 %s と違います。別の機器か、途中で差し替えられています。送信しません",
					"the gateway's certificate %s differs from the pinned fingerprint %s: another device, or someone in between; nothing is sent", got, want)
			}
			return nil
		},
		MinVersion: tls.VersionTLS12,
	}
	return &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{TLSClientConfig: tlsConf, ResponseHeaderTimeout: 30 * time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, u, nil
}

var (
	csrfRe  = regexp.MustCompile(`name="` + csrfField + `" value="([^"]+)"`)
	buildRe = regexp.MustCompile(`id="update-build"[^>]*data-build="([^"]+)"`)
	keyRe   = regexp.MustCompile(`id="update-key">([^<]+)<`)
	whyRe   = regexp.MustCompile(`id="update-unavailable">([^<]*)<`)
	alertRe = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)</`)
)

// login signs in and returns the session.
func (t Target) login(ctx context.Context) (*session, error) {
	hc, base, err := t.client()
	if err != nil {
		return nil, err
	}
	s := &session{t: t, base: base, hc: hc}
	page, _, err := s.get(ctx, loginPath)
	if err != nil {
		return nil, err
	}
	m := csrfRe.FindSubmatch(page)
	if m == nil {
		return nil, msg.New("ゲートウェイのログイン画面が読めません(初回のアカウントがまだ作られていない可能性があります)",
			"the gateway's login page could not be read (its first account may not have been created yet)")
	}
	form := url.Values{"username": {t.User}, "password": {t.Password}, csrfField: {html.UnescapeString(string(m[1]))}, "next": {updatePath}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url(loginPath), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, msg.Wrap(err, "ゲートウェイの画面に接続できません", "cannot reach the gateway's page")
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close() // read to its end or as far as needed
	if resp.StatusCode != http.StatusSeeOther {
		return nil, msg.Errorf("%s としてログインできません(%s): %s", "cannot log in as %s (%s): %s", t.User, resp.Status, pageMessage(body))
	}
	return s, nil
}

func (s *session) url(p string) string { return s.base.String() + p }

// get fetches a page of the session (a redirect is returned as it is).
func (s *session) get(ctx context.Context, p string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(p), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, 0, msg.Wrap(err, "ゲートウェイの画面に接続できません", "cannot reach the gateway's page")
	}
	defer func() { _ = resp.Body.Close() }() // read to its end below
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return b, resp.StatusCode, err
}

// running reads the update view: the running build and the session's
// CSRF token for the upload.
func (s *session) running(ctx context.Context) (Running, string, error) {
	page, code, err := s.get(ctx, updatePath)
	if err != nil {
		return Running{}, "", err
	}
	if code != http.StatusOK {
		return Running{}, "", msg.Errorf("更新画面を開けません(%d)。%s に更新の権限(ベンダ管理者)がありますか", "cannot open the update view (%d): is %s a vendor admin?", code, s.t.User)
	}
	if m := whyRe.FindSubmatch(page); m != nil {
		return Running{}, "", msg.Errorf("このゲートウェイは更新を受け付けません: %s", "this gateway takes no update: %s", html.UnescapeString(string(m[1])))
	}
	b, c, k := buildRe.FindSubmatch(page), csrfRe.FindSubmatch(page), keyRe.FindSubmatch(page)
	if b == nil || c == nil || k == nil {
		return Running{}, "", msg.New("更新画面の形が想定と違います(ゲートウェイのファームウェアが古い可能性があります)",
			"the update view is not as expected (the gateway's firmware may be too old for this tool)")
	}
	build, err := time.Parse(time.RFC3339, string(b[1]))
	if err != nil {
		return Running{}, "", err
	}
	return Running{Build: build, Key: html.UnescapeString(string(k[1]))}, html.UnescapeString(string(c[1])), nil
}

// pageMessage is the refusal a page shows, for an error.
func pageMessage(b []byte) string {
	if m := alertRe.FindSubmatch(b); m != nil {
		return strings.TrimSpace(html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(string(m[1]), " ")))
	}
	return strings.TrimSpace(string(b))
}

// Status signs in and reads the running build and the pinned key.
func Status(ctx context.Context, t Target) (Running, error) {
	s, err := t.login(ctx)
	if err != nil {
		return Running{}, err
	}
	r, _, err := s.running(ctx)
	return r, err
}

// Get signs in and fetches a page of the gateway (its HTML).
func Get(ctx context.Context, t Target, path string) ([]byte, error) {
	s, err := t.login(ctx)
	if err != nil {
		return nil, err
	}
	b, code, err := s.get(ctx, path)
	if err == nil && code != http.StatusOK {
		err = msg.Errorf("%s を開けません(%d)", "cannot open %s (%d)", path, code)
	}
	return b, err
}

// Refused is the page's answer to an upload it did not take: the gateway
// recorded why and keeps its firmware.
type Refused struct {
	Status int
	Answer string
}

func (e *Refused) text() msg.Text {
	return msg.Sprintf("ゲートウェイは更新を受け付けませんでした(%d): %s", "the gateway refused the update (%d): %s", e.Status, e.Answer)
}

func (e *Refused) Error() string { return e.text().String() }

// Localize renders the refusal in l (the page's answer is in the
// signed-in user's language).
func (e *Refused) Localize(l msg.Lang) string { return e.text().Localize(l) }

// Send uploads the bundle at path. It returns the page's answer after the
// gateway verified, wrote and switched to the new root (the gateway then
// restarts), or a *Refused.
func Send(ctx context.Context, t Target, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // only read
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	s, err := t.login(ctx)
	if err != nil {
		return "", err
	}
	run, csrf, err := s.running(ctx)
	if err != nil {
		return "", err
	}
	if m, err := Manifest(path); err == nil && m.Key != run.Key && !t.SendAnyKey {
		// The gateway would refuse it after the whole upload: say so now.
		return "", msg.Errorf("%s は鍵 %s で署名されていますが、ゲートウェイが登録している鍵は %s です。送信しません",
			"%s is signed with key %s, but the gateway pins key %s: not sent", path, m.Key, run.Key)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.url(updatePath), f)
	if err != nil {
		return "", err
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(csrfHeader, csrf)
	req.Header.Set(reauthHeader, t.Password)
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", msg.Wrap(err, "更新ファイルを送れませんでした", "sending the update bundle failed")
	}
	defer func() { _ = resp.Body.Close() }() // read to its end below
	ans, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", &Refused{Status: resp.StatusCode, Answer: strings.TrimSpace(string(ans))}
	}
	return strings.TrimSpace(string(ans)), nil
}

// Push sends the bundle at path and waits until the gateway answers with
// its build: it restarts from the other root after a success. wait bounds
// the wait for the restart.
func Push(ctx context.Context, t Target, path string, wait time.Duration) (bundle.Manifest, error) {
	m, err := Manifest(path)
	if err != nil {
		return m, err
	}
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("sending the update bundle", "page", t.URL, "build", m.Build.Format(time.RFC3339), "arch", m.Arch, "key", m.Key)
	if _, err := Send(ctx, t, path); err != nil {
		return m, err
	}
	log.Info("the gateway verified and switched; waiting for it to restart", "build", m.Build.Format(time.RFC3339))
	return m, WaitForBuild(ctx, t, m.Build, wait)
}

// WaitForBuild signs in again and again until the page says it runs
// build (the restart ends every session), or wait has passed.
func WaitForBuild(ctx context.Context, t Target, build time.Time, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var last error
	for {
		r, err := Status(ctx, t)
		switch {
		case err == nil && r.Build.Equal(build):
			return nil
		case err == nil:
			last = msg.Errorf("まだビルド %s で動いています", "still running build %s", r.Build.Format(time.RFC3339))
		default:
			last = err
		}
		select {
		case <-ctx.Done():
			return msg.Errorf("ゲートウェイは %[2]s 以内にビルド %[1]s で戻りませんでした(最後の応答: %[3]w)",
				"the gateway did not come back with build %[1]s within %[2]s (last answer: %[3]w)", build.Format(time.RFC3339), wait, last)
		case <-time.After(2 * time.Second):
		}
	}
}

// Manifest reads a bundle's manifest (its first member) without
// verifying it (the gateway does that), to know which build to wait for.
func Manifest(path string) (bundle.Manifest, error) {
	var m bundle.Manifest
	f, err := os.Open(path)
	if err != nil {
		return m, err
	}
	defer func() { _ = f.Close() }() // only read
	tr := tar.NewReader(f)
	h, err := tr.Next()
	if err != nil || h.Name != "manifest.json" || h.Size > 64<<10 {
		return m, msg.Errorf("%s は更新ファイル(.bundle)ではありません", "%s is not an update bundle (.bundle)", path)
	}
	if err := json.NewDecoder(tr).Decode(&m); err != nil {
		return m, msg.Errorf("%s の内容一覧が読めません: %w", "%s: its manifest cannot be read: %w", path, err)
	}
	return m, nil
}
