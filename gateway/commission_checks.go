package gateway

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// sourceTestTimeout bounds a source's test listing: a person waits for it.
const sourceTestTimeout = 2 * time.Minute

// TestSource connects to the source called name as a pull would and
// lists what a pull would stage, leave out and leave pending, writing
// nothing (pull.DryRun). The outcome is recorded as the step "source".
func (g *Gateway) TestSource(ctx context.Context, name, actor string) (*pull.Preview, error) {
	cfg := g.Config()
	src, err := cfg.Source(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, sourceTestTimeout)
	defer cancel()
	p, err := pull.DryRun(ctx, *src, pull.Options{Staging: cfg.StagingDir, KeyFile: cfg.KeyPath(src.KeyFile), Logger: g.log})
	d := ledger.CommissionData{Step: StepSource, Item: name, OK: err == nil}
	text := msg.Sprintf("試運転: 取得元 %s の接続と一覧を確認", "commissioning: source %s connected and listed", name)
	if err != nil {
		d.Detail = msg.TextOf(err)
		text = msg.Sprintf("試運転: 取得元 %s に接続・一覧できません", "commissioning: source %s could not be connected to or listed", name)
	} else {
		d.Detail = PreviewSummary(p)
	}
	g.recordCommission(actor, d, text)
	return p, err
}

// PreviewSummary says in one line what a pull would do.
func PreviewSummary(p *pull.Preview) msg.Text {
	return msg.Sprintf("%s:%s — 取得対象 %d 件(転送 %s)、未完了 %d 件、対象外 %d 件",
		"%s:%s — %d files to pull (%s to transfer), %d pending, %d left out",
		p.Host, p.ExportDir, len(p.Pull), bytesize.Format(p.Bytes()), len(p.Pending), len(p.Refused))
}

// AlertTestResult is one channel's test.
type AlertTestResult struct {
	Channel string
	Err     error
}

// alertTestTimeout bounds one channel's test.
const alertTestTimeout = time.Minute

// ErrNoAlertChannel: no alert channel is configured to test.
var ErrNoAlertChannel = msg.New("通知先(メール・Webhook)が設定されていません。先に通知の設定をしてください",
	"no alert channel (mail, webhook) is configured: configure the alerts first")

// TestAlerts sends a test notice through each channel named (every
// configured one when none is named) and records each result. A test of
// every configured channel is also recorded as the step "alerts", done
// when each one delivered.
func (g *Gateway) TestAlerts(ctx context.Context, actor string, channels ...string) ([]AlertTestResult, error) {
	n := g.notifier.Load()
	if n == nil {
		return nil, ErrNoAlertChannel
	}
	configured := n.Channels()
	all := len(channels) == 0
	if all {
		channels = configured
	}
	a := alert.Test(g.Config().GatewayID, actor, time.Now())
	var out []AlertTestResult
	failed := msg.Text{}
	for _, ch := range channels {
		cctx, cancel := context.WithTimeout(ctx, alertTestTimeout)
		err := n.SendTest(cctx, ch, a)
		cancel()
		out = append(out, AlertTestResult{Channel: ch, Err: err})
		d := ledger.AlertTestData{Channel: ch, OK: err == nil, Error: msg.TextOf(err)}
		text := msg.Sprintf("テスト通知を送信(%s)", "test notice sent (%s)", ch)
		if err != nil {
			text = msg.Sprintf("テスト通知を送信できません(%s)", "test notice not delivered (%s)", ch)
			failed = failed.Append("; ", msg.TextOf(err))
		}
		g.record(ledger.Entry{Kind: ledger.KindAlertTest, Actor: actor, Message: text, Payload: d})
	}
	if all {
		d := ledger.CommissionData{Step: StepAlerts, OK: failed.IsZero(), Detail: failed}
		text := msg.T("試運転: すべての通知先にテスト通知が届きました", "commissioning: a test notice went out through every alert channel")
		if !d.OK {
			text = msg.T("試運転: テスト通知を送れない通知先があります", "commissioning: a test notice could not be sent through every alert channel")
		} else {
			d.Detail = msg.Sprintf("通知先: %v", "channels: %v", configured)
		}
		g.recordCommission(actor, d, text)
	}
	return out, nil
}

// alertsSkipped is the detail of an alerts step that was skipped.
func alertsSkipped() msg.Text {
	return msg.T("スキップ: 通知先がありません(障害はこの画面にだけ表示されます)", "skipped: no alert channel (failures are shown on this page only)")
}

// skippedStep reports whether d records a skipped step (entries written
// before CommissionData.Skipped existed are told by their detail).
func skippedStep(d ledger.CommissionData) bool {
	return d.Skipped || d.Step == StepAlerts && d.OK && d.Detail.EN == alertsSkipped().EN
}

// alertsConfigured reports whether cfg names an alert channel.
func alertsConfigured(cfg *config.Config) bool {
	return cfg.Alerts.Email != nil || cfg.Alerts.Webhook != nil
}

// SkipAlerts records the alerts step as skipped: the hospital LAN reaches
// no mail server and no webhook, so failures are shown on the page only.
// It is refused while a channel is configured (that one is to be tested),
// and a skip stops counting once one is.
func (g *Gateway) SkipAlerts(ctx context.Context, actor string) error {
	if alertsConfigured(g.Config()) {
		return msg.New("通知先が設定されているため、スキップできません。テスト通知を送ってください",
			"an alert channel is configured, so the step cannot be skipped: send a test notice")
	}
	return g.Record(ctx, ledger.Entry{Kind: ledger.KindCommission, Actor: actor,
		Message: msg.T("試運転: 通知の手順をスキップ(通知先なし)", "commissioning: the alerts step skipped (no alert channel)"),
		Payload: ledger.CommissionData{Step: StepAlerts, OK: true, Skipped: true, Detail: alertsSkipped()}})
}
