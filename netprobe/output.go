package netprobe

import (
	"encoding/csv"
	"encoding/json"
	"html/template"
	"io"
	"strconv"
	"strings"
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
type Line struct{ JA, EN string }

// Rows lays the report out as the programme's table.
func (r *Report) Rows() []Row {
	var rows []Row
	for _, t := range r.Targets {
		row := Row{No: t.No, ID: t.Point.ID, Device: t.Point.Device(), Attention: "-"}
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
			row.Lines = append(row.Lines, Line{f.JA, f.EN})
		}
		rows = append(rows, row)
	}
	return rows
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
	cw.Write([]string{"No", "ID", "接続機器", "IPアドレス", "注目情報", "調査結果", "Findings (English)"})
	for _, row := range r.Rows() {
		var ja, en []string
		for _, l := range row.Lines {
			ja, en = append(ja, l.JA), append(en, l.EN)
		}
		cw.Write([]string{strconv.Itoa(row.No), row.ID, row.Device, row.Addresses, row.Attention, strings.Join(ja, "\n"), strings.Join(en, "\n")})
	}
	cw.Flush()
	return cw.Error()
}

var reportHTML = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<title>外部ネットワーク接続点 調査結果 / External connection points</title>
<style>
body{font-family:"Noto Sans CJK JP",sans-serif;margin:2em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #888;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#eee}.caution{color:#b00;font-weight:bold}.en{color:#555;font-size:90%}
</style></head><body>
<h1>外部ネットワーク接続点 調査結果 <span class="en">/ External connection points: results</span></h1>
<p>調査日時 / scanned: {{.Started.Format "2006-01-02 15:04 MST"}} – {{.Finished.Format "15:04 MST"}}<br>
既知の悪用された脆弱性情報 / known-exploited feed: {{.FeedDate}}<br>
TCP ポート / TCP ports: {{.TCPPorts}}<br>
注意 / cautions: {{.Cautions}}</p>
<table><thead><tr><th>No</th><th>ID</th><th>接続機器</th><th>IPアドレス</th><th>注目情報</th><th>調査結果 <span class="en">/ findings</span></th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.No}}</td><td>{{.ID}}</td><td>{{.Device}}</td><td>{{.Addresses}}</td>
<td{{if eq .Attention "注意"}} class="caution"{{end}}>{{.Attention}}</td>
<td>{{range .Lines}}<div>{{.JA}}<br><span class="en">{{.EN}}</span></div>{{end}}</td></tr>
{{end}}</tbody></table>
{{with .Changes}}<h2>前回の調査からの変化 <span class="en">/ since the last scan ({{.Previous.Format "2006-01-02 15:04"}})</span></h2>
<ul>{{range .Opened}}<li>新たに開いた / opened: {{.}}</li>{{end}}
{{range .Closed}}<li>閉じた / closed: {{.}}</li>{{end}}
{{range .NewCautions}}<li class="caution">新しい注意 / new caution: {{.JA}} <span class="en">{{.EN}}</span></li>{{end}}
{{range .Resolved}}<li>解消した注意 / resolved: {{.JA}} <span class="en">{{.EN}}</span></li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes a standalone page for download and printing.
func (r *Report) WriteHTML(w io.Writer) error {
	return reportHTML.Execute(w, r)
}
