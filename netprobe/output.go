package netprobe

import (
	"encoding/csv"
	"encoding/json"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// Row is one line of the programme's table:
// No | ID | 接続機器 | IPアドレス | 注目情報 | 調査結果.
type Row struct {
	No        int
	ID        string
	Device    string
	Addresses string // "調査不可 (IPアドレス不明)" when the register has none
	Attention string // 注意 or -
	Lines     []Line // 調査結果
}

// Line is one finding in both languages.
type Line = msg.Text

// Rows lays the report out as the programme's table.
func (r *Report) Rows() []Row {
	var rows []Row
	for _, t := range r.Targets {
		row := Row{No: t.No, ID: register.Cell(t.Point.ID), Device: register.Cell(t.Point.Device()), Attention: "-"}
		var addrs []string
		for _, a := range t.Point.Addresses() {
			s := a.Addr.String()
			if a.WAN {
				s += " (WAN)"
			}
			addrs = append(addrs, s)
		}
		row.Addresses = strings.Join(addrs, ", ")
		if row.Addresses == "" {
			row.Addresses = "調査不可 (IPアドレス不明)"
		}
		for _, f := range t.Findings {
			if f.Caution {
				row.Attention = "注意"
			}
			row.Lines = append(row.Lines, safeLine(f.Text))
		}
		rows = append(rows, row)
	}
	return rows
}

// safeLine neutralises a finding for the CSV, the page and the terminal:
// it may quote the register or a device's banner (register.Cell).
func safeLine(t msg.Text) Line {
	return Line{JA: register.Cell(t.JA), EN: register.Cell(t.EN)}
}

// WriteJSON writes the whole report.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteCSV writes the table with a byte order mark for Excel.
func (r *Report) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"No", "ID", "接続機器", "IPアドレス", "注目情報", "調査結果", "Findings (English)"}); err != nil {
		return err
	}
	for _, row := range r.Rows() {
		var ja, en []string
		for _, l := range row.Lines {
			ja, en = append(ja, l.JA), append(en, l.EN)
		}
		if err := cw.Write([]string{strconv.Itoa(row.No), row.ID, row.Device, row.Addresses, row.Attention, strings.Join(ja, "\n"), strings.Join(en, "\n")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// pageText is the page's own wording. The page is read in both languages
// at once (it is printed and filed): each label shows its Japanese with
// the English after it.
var pageText = map[string]msg.Text{
	"title":    msg.T("外部ネットワーク接続点 調査結果", "External connection points"),
	"heading":  msg.T("外部ネットワーク接続点 調査結果", "External connection points: results"),
	"scanned":  msg.T("調査日時", "scanned"),
	"feed":     msg.T("既知の悪用された脆弱性情報", "known-exploited feed"),
	"tcp":      msg.T("TCP ポート", "TCP ports"),
	"cautions": msg.T("注意", "cautions"),
	"findings": msg.T("調査結果", "findings"),
	"changes":  msg.T("前回の調査からの変化", "since the last scan"),
	"opened":   msg.T("新たに開いた", "opened"),
	"closed":   msg.T("閉じた", "closed"),
	"new":      msg.T("新しい注意", "new caution"),
	"resolved": msg.T("解消した注意", "resolved"),
}

// label looks up pageText; a misspelt key fails the page, not shows blank.
func label(key string) (msg.Text, error) {
	t, ok := pageText[key]
	if !ok {
		return t, msg.Errorf("調査結果の画面に文言 %q がありません", "the report page has no text %q", key)
	}
	return t, nil
}

// The template reads a label as {{both "key"}} ("日本語 / English") or
// takes its halves with {{ja "key"}} and {{en "key"}} to set the English
// apart.
var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"both": func(key string) (string, error) { t, err := label(key); return t.String(), err },
	"ja":   func(key string) (string, error) { t, err := label(key); return t.JA, err },
	"en":   func(key string) (string, error) { t, err := label(key); return t.EN, err },
}).Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<title>{{both "title"}}</title>
<style>
body{font-family:"Noto Sans CJK JP",sans-serif;margin:2em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #888;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#eee}.caution{color:#b00;font-weight:bold}.en{color:#555;font-size:90%}
</style></head><body>
<h1>{{ja "heading"}} <span class="en">/ {{en "heading"}}</span></h1>
<p>{{both "scanned"}}: {{.Started}} – {{.Finished}}<br>
{{both "feed"}}: {{.FeedDate}}<br>
{{both "tcp"}}: {{.TCPPorts}}<br>
{{both "cautions"}}: {{.Cautions}}</p>
<table><thead><tr><th>No</th><th>ID</th><th>接続機器</th><th>IPアドレス</th><th>注目情報</th><th>{{ja "findings"}} <span class="en">/ {{en "findings"}}</span></th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.No}}</td><td>{{.ID}}</td><td>{{.Device}}</td><td>{{.Addresses}}</td>
<td{{if eq .Attention "注意"}} class="caution"{{end}}>{{.Attention}}</td>
<td>{{range .Lines}}<div>{{.JA}}<br><span class="en">{{.EN}}</span></div>{{end}}</td></tr>
{{end}}</tbody></table>
{{with .Changes}}<h2>{{ja "changes"}} <span class="en">/ {{en "changes"}} ({{$.Previous}})</span></h2>
<ul>{{range .Opened}}<li>{{both "opened"}}: {{.}}</li>{{end}}
{{range .Closed}}<li>{{both "closed"}}: {{.}}</li>{{end}}
{{range .NewCautions}}<li class="caution">{{both "new"}}: {{.JA}} <span class="en">{{.EN}}</span></li>{{end}}
{{range .Resolved}}<li>{{both "resolved"}}: {{.JA}} <span class="en">{{.EN}}</span></li>{{end}}</ul>{{end}}
</body></html>
`))

// reportPage is what the page's template reads: the report, with its
// times said in the gateway's zone.
type reportPage struct {
	*Report
	Started, Finished, Previous string
}

// WriteHTML writes a standalone page for download and printing, its times
// in z (the configured time zone).
func (r *Report) WriteHTML(w io.Writer, z when.Zone) error {
	p := reportPage{Report: r, Started: z.Minute(r.Started), Finished: z.Minute(r.Finished)}
	if r.Changes != nil {
		p.Previous = z.Minute(r.Changes.Previous)
	}
	return reportHTML.Execute(w, p)
}
