package alert

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// KindTest is a test notice a person sends from the page while
// commissioning the gateway: it says nothing is wrong. It goes out only
// through SendTest, never through Send and its repeat memory.
const KindTest Kind = "test"

// Channel names, as ChannelError and the ledger give them.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Test is the test notice actor sends at at.
func Test(gatewayID, actor string, at time.Time) Alert {
	return Alert{Kind: KindTest, Severity: SeverityInfo, GatewayID: gatewayID, Time: at,
		Title: msg.T("テスト通知", "Test notice"),
		Body: msg.Sprintf("%s がゲートウェイの画面から送ったテスト通知です。対応は不要です。この通知が届けば、障害の通知もここに届きます。",
			"%s sent this test notice from the gateway's page. Nothing needs doing: if this arrived, alerts of failures arrive here too.", actor),
		Key: key(KindTest, gatewayID, at.UTC().Format(time.RFC3339Nano)),
	}
}

// Channels names the configured channels, in the order Send uses them.
func (n *Notifier) Channels() []string {
	var out []string
	for _, ch := range n.channels {
		out = append(out, ch.name())
	}
	return out
}

// SendTest delivers a through the one channel named, once: a person is
// waiting for the result on the page, so a failure is reported at once
// rather than retried. The repeat memory is neither read nor changed.
func (n *Notifier) SendTest(ctx context.Context, channel string, a Alert) error {
	for _, ch := range n.channels {
		if ch.name() != channel {
			continue
		}
		if err := ch.send(ctx, a); err != nil {
			return &ChannelError{Channel: channel, Attempts: 1, Err: err}
		}
		n.log.Info("test alert sent", "channel", channel, "key", a.Key)
		return nil
	}
	return msg.Errorf("通知チャネル %s は設定されていません", "alert channel %s is not configured", channel)
}
