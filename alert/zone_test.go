package alert

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/internal/when/whentest"
)

// TestAlertsShowTheConfiguredZone: the mail and the webhook say when in
// the gateway's configured zone, whatever the process's Local zone (UTC on
// the appliance), and not JST for every gateway.
func TestAlertsShowTheConfiguredZone(t *testing.T) {
	whentest.LocalUTC(t)
	for _, c := range []struct{ zone, stamp, due, date, rfc string }{
		{"Asia/Tokyo", "2026-05-01 11:13:00 JST", "2026-05-01 11:00 JST", "+0900", "2026-05-01T11:13:00+09:00"},
		{"Europe/Berlin", "2026-05-01 04:13:00 CEST", "2026-05-01 04:00 CEST", "+0200", "2026-05-01T04:13:00+02:00"},
	} {
		t.Run(c.zone, func(t *testing.T) {
			pki := newPKI(t)
			srv := startSMTPD(t, &smtpd{tls: pki.server, user: "danzen@example.jp", pass: smtpPassword})
			h := &hook{}
			hsrv := httptest.NewServer(h)
			defer hsrv.Close()
			env := newEnv(t)
			pw := writeSecret(t, env.dir, "smtp.pass", smtpPassword, 0o600)
			o := env.opts(t)
			o.Zone = when.Of(c.zone)
			n := mustNew(t, Spec{Email: emailSpec(srv, pki.caFile, pw), Webhook: &WebhookSpec{URL: hsrv.URL}}, o)
			now := env.clock.Now()
			if err := n.Send(context.Background(), CycleMissed("gw1", now, now.Add(-13*time.Minute), o.Zone)); err != nil {
				t.Fatal(err)
			}

			m := readMail(t, sentOverTLS(t, srv).data)
			if d := m.Get("Date"); !strings.HasSuffix(d, c.date) {
				t.Errorf("mail Date %q, want it in %s (%s)", d, c.zone, c.date)
			}
			for _, want := range []string{c.stamp, c.due} {
				if !strings.Contains(m.body, want) {
					t.Errorf("mail lacks %q:\n%s", want, m.body)
				}
			}
			reqs := h.got()
			if len(reqs) != 1 {
				t.Fatalf("%d webhook requests", len(reqs))
			}
			if got := reqs[0].body["time"]; got != c.rfc {
				t.Errorf("webhook time %v, want %s", got, c.rfc)
			}
			if text, _ := reqs[0].body["text"].(string); !strings.Contains(text, c.stamp) || !strings.Contains(text, c.due) {
				t.Errorf("webhook text lacks %q or %q:\n%s", c.stamp, c.due, text)
			}
		})
	}
}
