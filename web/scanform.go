package web

import (
	"fmt"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
)

// scanItem edits how the self-scan runs. The register, the report folder
// and the known-exploited feed are kept on the self-scan page, not here.
func scanItem(c *config.Config, _ string) (item, bool) {
	def := netprobe.DefaultOptions()
	what := [2]string{"調査の範囲と速さ", "What and how fast"}
	when := [2]string{"実行時刻", "When"}
	snmp := [2]string{"SNMP(任意)", "SNMP (opt-in)"}
	var b bindings
	g, s := bindPorts(&c.Scan.TCPPorts)
	b.add(what, "tcp_ports", [2]string{"TCP ポート", "TCP ports"}, [2]string{"例: 1-1024,3389,8443。空欄は全 65,535 ポート(境界装置に推奨)", "e.g. 1-1024,3389,8443; empty is all 65,535 ports (advised for edge devices)"}, textField, g, s)
	g, s = bindInt(&c.Scan.Rate)
	b.add(what, "rate", [2]string{"接続の速さ(回/秒)", "Connects per second"}, [2]string{
		fmt.Sprintf("全体の上限。0 は %.0f、指定するなら %d〜%d", def.Rate, config.MinScanRate, config.MaxScanRate),
		fmt.Sprintf("for the whole scan; 0 is %.0f, otherwise %d to %d", def.Rate, config.MinScanRate, config.MaxScanRate)}, numberField, g, s)
	g, s = bindInt(&c.Scan.Concurrency)
	b.add(what, "concurrency", [2]string{"同時接続数(1アドレスあたり)", "Connects in flight per address"}, [2]string{
		fmt.Sprintf("0 は %d、指定するなら 1〜%d", def.Concurrency, config.MaxScanConcurrency),
		fmt.Sprintf("0 is %d, otherwise 1 to %d", def.Concurrency, config.MaxScanConcurrency)}, numberField, g, s)
	g, s = bindString(&c.Scan.Schedule)
	b.add(when, "schedule", [2]string{"定期調査の時刻", "Scheduled scans"}, [2]string{"例: \"daily 12:30\"、毎週月曜は \"30 12 * * 1\"。空欄は手動のみ。バックアップ中は終わるまで待ちます", "e.g. \"daily 12:30\", Mondays \"30 12 * * 1\"; empty for on demand only; a scan waits for a running backup"}, textField, g, s)
	g, s = bindLines(&c.Scan.SNMPCommunities)
	b.add(snmp, "snmp_communities", [2]string{"試すコミュニティ名(1行に1つ)", "Communities to try (one per line)"}, [2]string{
		"空欄なら SNMP は問い合わせません。注意: SNMP v2c のコミュニティ名は暗号化されずネットワークを流れます。機器に設定した本物のコミュニティ名ではなく、既定値(public、private)の確認に使ってください",
		"empty: SNMP is not asked. Warning: SNMP v2c sends each community in clear over the network; use it to check for the defaults (public, private), not to send the devices' real communities"}, linesField, g, s)
	return item{prefix: "scan", binds: b, commit: func() {}}, true
}

// bindPorts reads a TCP port list with netprobe's own parser, so the
// page refuses exactly what a scan would.
func bindPorts(p *string) (func() string, func(string) error) {
	return func() string { return *p }, func(v string) error {
		v = strings.TrimSpace(v)
		if v != "" {
			if _, err := config.ParsePorts(v); err != nil {
				ja, en, _ := strings.Cut(err.Error(), " / ")
				return fieldMsg{ja, en}
			}
		}
		*p = v
		return nil
	}
}

// scanSummary is the self-scan's settings on the configuration's front
// page. Community names are counted, not shown.
func scanSummary(l lang, s config.Scan) []kv {
	def := netprobe.DefaultOptions()
	ports := l.t("全ポート(1-65535)", "all (1-65535)")
	if s.TCPPorts != "" {
		ports = s.TCPPorts
	}
	rate := fmt.Sprintf(l.t("既定(%.0f)", "default (%.0f)"), def.Rate)
	if s.Rate != 0 {
		rate = fmt.Sprint(s.Rate)
	}
	conc := fmt.Sprintf(l.t("既定(%d)", "default (%d)"), def.Concurrency)
	if s.Concurrency != 0 {
		conc = fmt.Sprint(s.Concurrency)
	}
	sched := l.t("手動のみ", "on demand only")
	if s.Schedule != "" {
		sched = s.Schedule
	}
	snmp := l.t("問い合わせない", "not asked")
	if n := len(s.SNMPCommunities); n > 0 {
		snmp = fmt.Sprintf(l.t("%d 件", "%d"), n)
	}
	return []kv{
		{l.t("TCP ポート", "TCP ports"), ports},
		{l.t("接続の速さ(回/秒)", "Connects per second"), rate},
		{l.t("同時接続数(1アドレスあたり)", "Connects in flight per address"), conc},
		{l.t("定期調査", "Scheduled scans"), sched},
		{l.t("SNMP コミュニティ", "SNMP communities"), snmp},
	}
}
