package documents

import (
	"fmt"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
)

// LatestScan reads the newest self-scan report of cfg, whose scan folder
// is relative to the configuration file's directory cfgDir. It returns nil
// when no scan has run yet.
func LatestScan(cfgDir string, cfg *config.Config) (*netprobe.Report, error) {
	dir := cfg.Scan.Dir
	if dir == "" {
		dir = "scans"
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(cfgDir, dir)
	}
	return netprobe.Store{Dir: dir}.Latest()
}

// scanReport is the WAN-edge self-scan in the programme's table format:
// No | ID | 接続機器 | IPアドレス | 注目情報 | 調査結果.
func (b *builder) scanReport() *Doc {
	l, r := b.l, b.in.Scan
	d := b.newDoc("self-scan-report", l.t("外部接続点 自己診断報告書", "Internet edge self-scan report"))
	if err := b.in.ScanErr; err != nil {
		d.Sections = append(d.Sections, Section{Title: l.t("調査結果", "Findings"), Blocks: []Block{
			note(bad(l.t("自己診断の結果を読めません: ", "The self-scan report cannot be read: ") + l.inErr(err))),
		}})
		return d
	}
	if r == nil {
		d.Intro = []Span{text(l.t("自己診断はまだ実行されていません。", "No self-scan has run yet."))}
		d.Sections = append(d.Sections, Section{Title: l.t("調査結果", "Findings"), Blocks: []Block{
			note(bad(l.t("外部接続点の台帳を登録し、自己診断(画面の「自己診断」→「今すぐ調査」)を実行してから再生成してください。", "Register the connection points, run the self-scan (on the page: Self-scan → \"Scan now\"), then regenerate this report."))),
		}})
		return d
	}
	d.Intro = []Span{text(l.f("実施: %s 〜 %s。既知の悪用された脆弱性の情報: %s。調べたTCPポート: %s。", "Run %s – %s. Known-exploited feed: %s. TCP ports: %s.",
		b.stamp(r.Started), b.stamp(r.Finished), orDash(r.FeedDate), orDash(r.TCPPorts)))}
	var rows [][]Cell
	for _, row := range r.Rows() {
		var result Cell
		for i, ln := range row.Lines {
			if i > 0 {
				result = append(result, text(" / "))
			}
			result = append(result, text(l.in(ln)))
		}
		if len(result) == 0 {
			result = cell(text(l.t("指摘事項なし", "nothing found")))
		}
		att := cell(text(row.Attention))
		if row.Attention != "-" {
			att = cell(bad(row.Attention))
		}
		rows = append(rows, []Cell{tcell(fmt.Sprint(row.No)), cell(code(orDash(row.ID))), tcell(orDash(row.Device)), tcell(orDash(row.Addresses)), att, result})
	}
	d.Sections = append(d.Sections, Section{Title: l.t("調査結果", "Findings"), Blocks: []Block{
		table([]string{"No.", "ID", l.t("接続機器", "device"), l.t("IPアドレス", "IP address"), l.t("注目情報", "attention"), l.t("調査結果", "findings")}, rows,
			l.t("外部接続点が登録されていません。", "No connection point is registered.")),
	}})
	return d
}
