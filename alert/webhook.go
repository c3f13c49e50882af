package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

type webhookChannel struct {
	url       string
	tokenPath string
	client    *http.Client
	zone      when.Zone
}

func newWebhook(s WebhookSpec, o Options) (*webhookChannel, error) {
	u, _ := url.Parse(s.URL) // Validate has parsed it
	w := &webhookChannel{url: s.URL, zone: o.Zone}
	var err error
	if s.TokenFile != "" {
		if w.tokenPath, err = resolvePath(o.SecretsDir, s.TokenFile); err != nil {
			return nil, err
		}
	}
	tc, err := tlsConfig(u.Hostname(), o.SecretsDir, s.CAFile)
	if err != nil {
		return nil, err
	}
	timeout := s.Timeout.Std()
	if timeout == 0 {
		timeout = DefaultWebhookTimeout
	}
	w.client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       o.Dial,
			TLSClientConfig:   tc,
			ForceAttemptHTTP2: true,
			// Each alert is rare; a kept-alive connection would only go stale.
			DisableKeepAlives: true,
		},
		// A redirect would carry the alert (and maybe the token) somewhere
		// the configuration did not name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w, nil
}

func (w *webhookChannel) name() string { return "webhook" }

type payload struct {
	wireAlert
	Text string `json:"text"`
}

func (w *webhookChannel) send(ctx context.Context, a Alert) error {
	a.Time = w.zone.Time(a.Time)
	body, err := json.Marshal(payload{wireAlert: a.wire(), Text: a.Subject() + "\n\n" + a.Text(w.zone)})
	if err != nil {
		return permanent(msg.Errorf("JSONに変換できません: %w", "cannot encode alert: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return permanent(msg.Errorf("webhook %s: %w", "webhook %s: %w", w.url, err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "danzen-alert/1")
	if w.tokenPath != "" {
		tok, err := readSecret(w.tokenPath)
		if err != nil {
			return permanent(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return msg.Errorf("webhook %s に送信できません: %w", "cannot POST to webhook %s: %w", w.url, err)
	}
	defer closeQuietly(resp.Body)
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = msg.Errorf("webhook %s が %s を返しました: %s", "webhook %s answered %s: %s", w.url, resp.Status, strings.TrimSpace(string(snippet)))
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return &retryAfterError{err: err, after: time.Duration(s) * time.Second}
		}
		return err
	default:
		return permanent(err)
	}
}
