package web

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe"
)

// scanItem edits how the self-scan runs. The register, the report folder
// and the known-exploited feed are kept on the self-scan page, not here.
func scanItem(c *config.Config, _ string) (item, bool) {
	def := netprobe.DefaultOptions()
	what := msg.T("調査の範囲と速さ", "What and how fast")
	when := msg.T("実行時刻", "When")
	snmp := msg.T("SNMP(任意)", "SNMP (opt-in)")
	var b bindings
	g, s := bindPorts(&c.Scan.TCPPorts)
	b.add(what, "tcp_ports", msg.T("TCP ポート", "TCP ports"), msg.T("例: 1-1024,3389,8443。空欄は全 65,535 ポート(境界装置に推奨)", "e.g. 1-1024,3389,8443; empty is all 65,535 ports (advised for edge devices)"), textField, g, s)
	g, s = bindInt(&c.Scan.Rate)
	b.add(what, "rate", msg.T("接続の速さ(回/秒)", "Connects per second"), msg.Sprintf(
		"全体の上限。0 は %.0f、指定するなら %d〜%d", "for the whole scan; 0 is %.0f, otherwise %d to %d", def.Rate, config.MinScanRate, config.MaxScanRate), numberField, g, s)
	g, s = bindInt(&c.Scan.PublicRate)
	b.add(what, "public_rate", msg.T("グローバルIPを調べるときの速さの上限(回/秒)", "Connects per second when a global address is scanned"), msg.Sprintf(
		"台帳にグローバルIPがあるときの上限。0 は %d、指定するなら %d〜%d", "the cap while the register holds a global address; 0 is %d, otherwise %d to %d", netprobe.DefaultPublicRate, config.MinScanRate, config.MaxScanRate), numberField, g, s)
	g, s = bindInt(&c.Scan.Concurrency)
	b.add(what, "concurrency", msg.T("同時接続数(1アドレスあたり)", "Connects in flight per address"), msg.Sprintf(
		"0 は %d、指定するなら 1〜%d", "0 is %d, otherwise 1 to %d", def.Concurrency, config.MaxScanConcurrency), numberField, g, s)
	g, s = bindString(&c.Scan.Schedule)
	b.add(when, "schedule", msg.T("定期調査の時刻", "Scheduled scans"), msg.T("例: \"daily 12:30\"、毎週月曜は \"30 12 * * 1\"。空欄は手動のみ。バックアップ中は終わるまで待ちます", "e.g. \"daily 12:30\", Mondays \"30 12 * * 1\"; empty for on demand only; a scan waits for a running backup"), scheduleField, g, s)
	g, s = bindLines(&c.Scan.SNMPCommunities)
	b.add(snmp, "snmp_communities", msg.T("試すコミュニティ名(1行に1つ)", "Communities to try (one per line)"), msg.T(
		"空欄なら SNMP は問い合わせません。注意: SNMP v2c のコミュニティ名は暗号化されずネットワークを流れます。機器に設定した本物のコミュニティ名ではなく、既定値(public、private)の確認に使ってください",
		"empty: SNMP is not asked. Warning: SNMP v2c sends each community in clear over the network; use it to check for the defaults (public, private), not to send the devices' real communities"), linesField, g, s)
	return item{prefix: "scan", binds: b, commit: func() {}}, true
}

// bindPorts reads a TCP port list with netprobe's own parser, so the
// page refuses exactly what a scan would.
func bindPorts(p *string) (func() string, func(string) error) {
	return func() string { return *p }, func(v string) error {
		v = strings.TrimSpace(v)
		if v != "" {
			if _, err := config.ParsePorts(v); err != nil {
				return err
			}
		}
		*p = v
		return nil
	}
}

// scanSummary is the self-scan's settings on the configuration's front
// page. Community names are counted, not shown.
func scanSummary(s config.Scan) []kv {
	def := netprobe.DefaultOptions()
	ports := msg.T("全ポート(1-65535)", "all (1-65535)")
	if s.TCPPorts != "" {
		ports = msg.Plain(s.TCPPorts)
	}
	rate := msg.Sprintf("既定(%.0f)", "default (%.0f)", def.Rate)
	if s.Rate != 0 {
		rate = msg.Plain(fmt.Sprint(s.Rate))
	}
	conc := msg.Sprintf("既定(%d)", "default (%d)", def.Concurrency)
	if s.Concurrency != 0 {
		conc = msg.Plain(fmt.Sprint(s.Concurrency))
	}
	sched := msg.T("手動のみ", "on demand only")
	if s.Schedule != "" {
		sched = scheduleWords(s.Schedule)
	}
	snmp := msg.T("問い合わせない", "not asked")
	if n := len(s.SNMPCommunities); n > 0 {
		snmp = msg.Sprintf("%d 件", "%d", n)
	}
	return []kv{
		{msg.T("TCP ポート", "TCP ports"), ports},
		{msg.T("接続の速さ(回/秒)", "Connects per second"), rate},
		{msg.T("同時接続数(1アドレスあたり)", "Connects in flight per address"), conc},
		{msg.T("定期調査", "Scheduled scans"), sched},
		{msg.T("SNMP コミュニティ", "SNMP communities"), snmp},
	}
}
