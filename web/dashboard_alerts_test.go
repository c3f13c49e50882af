package web_test

import (
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
)

// With the alert channels down from the start, the dashboard is the only
// place a failure is seen: it says so among what needs attention.
func TestDashboardSaysAlertsAreDown(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		cfg.Alerts.Webhook = &alert.WebhookSpec{URL: "https://127.0.0.1:1/hook", CAFile: "hospital-ca.pem"}
	}})
	page := e.login("admin", adminPW).get("/").body
	if !strings.Contains(page, `id="attention"`) || !strings.Contains(page, "通知を送れません") {
		t.Fatalf("the dashboard does not say alerts are down:\n%s", page)
	}
}
