package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

type hookReq struct {
	method, contentType, auth string
	tls                       bool
	body                      map[string]any
}

// answer is one scripted reply of the receiver.
type answer struct {
	code       int
	retryAfter string
}

// hook is a webhook receiver that gives the scripted answers in turn
// (then 200) and records what it got.
type hook struct {
	mu      sync.Mutex
	reqs    []hookReq
	answers []answer
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	h.mu.Lock()
	h.reqs = append(h.reqs, hookReq{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.TLS != nil, m})
	a := answer{code: http.StatusOK}
	if len(h.answers) > 0 {
		a, h.answers = h.answers[0], h.answers[1:]
	}
	h.mu.Unlock()
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.code)
	_, _ = io.WriteString(w, http.StatusText(a.code))
}

func codes(c ...int) []answer {
	var out []answer
	for _, x := range c {
		out = append(out, answer{code: x})
	}
	return out
}

func (h *hook) got() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

func TestWebhookPostsJSON(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	env := newEnv(t)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: srv.URL + "/hook"}}, env.opts(t))
	a := CycleFailed("gw1", "lto-2", env.clock.Now(), msg.Plain("restic exited 1"))
	if err := n.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reqs := h.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || !strings.HasPrefix(r.contentType, "application/json") || r.auth != "" {
		t.Errorf("request = %+v", r)
	}
	want := map[string]any{
		"kind": "cycle_failed", "severity": "error", "gateway_id": "gw1", "medium": "lto-2",
		"title_ja": "バックアップが失敗しました(媒体 lto-2)", "title_en": "Backup cycle failed (medium lto-2)",
		"body_ja": a.Body.JA, "body_en": a.Body.EN, "detail": "restic exited 1",
		"dedup_key": "cycle_failed/gw1/lto-2", "resolved": false,
		"time": "2026-05-01T11:13:00+09:00",
	}
	for k, v := range want {
		if !reflect.DeepEqual(r.body[k], v) {
			t.Errorf("%s = %#v, want %#v", k, r.body[k], v)
		}
	}
	text, _ := r.body["text"].(string)
	if !strings.Contains(text, a.Title.JA) || strings.Index(text, a.Title.JA) > strings.Index(text, a.Title.EN) {
		t.Errorf("text = %q", text)
	}
}

func TestWebhookTLSWithCustomCAAndToken(t *testing.T) {
	pki := newPKI(t)
	h := &hook{}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = pki.server
	srv.StartTLS()
	defer srv.Close()
	env := newEnv(t)
	tok := writeSecret(t, env.dir, "hook.token", "s3cret-token\n", 0o600)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: srv.URL, TokenFile: tok, CAFile: pki.caFile}}, env.opts(t))
	if err := n.Send(context.Background(), MediumNotOff("gw1", "disk-b", env.clock.Now(), msg.Text{})); err != nil {
		t.Fatal(err)
	}
	reqs := h.got()
	if len(reqs) != 1 || !reqs[0].tls || reqs[0].auth != "Bearer s3cret-token" {
		t.Fatalf("requests = %+v", reqs)
	}
	if reqs[0].body["severity"] != "critical" || reqs[0].body["medium"] != "disk-b" {
		t.Errorf("body = %v", reqs[0].body)
	}
}

func TestWebhookUntrustedCertificateIsNotRetried(t *testing.T) {
	h := &hook{}
	srv := httptest.NewTLSServer(h) // httptest's own CA, which we do not trust
	defer srv.Close()
	env := newEnv(t)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: srv.URL}}, env.opts(t))
	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Attempts != 1 || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v", err)
	}
	if len(h.got()) != 0 {
		t.Error("the request reached an unverified server")
	}
}

func TestWebhookRetriesTransientThenSucceeds(t *testing.T) {
	// The second 503 asks for 7s, longer than the 4s backoff would be.
	h := &hook{answers: []answer{{code: 503}, {code: 503, retryAfter: "7"}}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	env := newEnv(t)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: srv.URL}}, env.opts(t))
	if err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{})); err != nil {
		t.Fatal(err)
	}
	if got := len(h.got()); got != 3 {
		t.Fatalf("%d requests, want 3 (503, 503, 200)", got)
	}
	if got, want := env.sl.got(), []time.Duration{2 * time.Second, 7 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

func TestWebhookGivesUpAfterAttempts(t *testing.T) {
	h := &hook{answers: codes(503, 503, 503, 503, 503)}
	srv := httptest.NewServer(h)
	defer srv.Close()
	env := newEnv(t)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: srv.URL}, Attempts: 3}, env.opts(t))
	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Channel != "webhook" || ce.Attempts != 3 || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
	if got := len(h.got()); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
	if got, want := env.sl.got(), []time.Duration{2 * time.Second, 4 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

func TestWebhookClientErrorIsNotRetried(t *testing.T) {
	h := &hook{answers: codes(400)}
	srv := httptest.NewServer(h)
	defer srv.Close()
	env := newEnv(t)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: srv.URL}}, env.opts(t))
	err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{}))
	if err == nil || !strings.Contains(err.Error(), "400") || len(h.got()) != 1 {
		t.Fatalf("err = %v, requests %d", err, len(h.got()))
	}
}

func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	h := &hook{}
	target := httptest.NewServer(h)
	defer target.Close()
	redir := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redir.Close()
	env := newEnv(t)
	n := mustNew(t, Spec{Webhook: &WebhookSpec{URL: redir.URL}}, env.opts(t))
	if err := n.Send(context.Background(), CycleFailed("gw1", "", env.clock.Now(), msg.Text{})); err == nil || !strings.Contains(err.Error(), "307") {
		t.Fatalf("err = %v, want the 307 reported", err)
	}
	if len(h.got()) != 0 {
		t.Error("followed the redirect")
	}
}
