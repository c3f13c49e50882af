package register

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// column ties a CSV column of the 回線・機器情報記入シート to a field. The
// header is written in Japanese; import also accepts the English name.
type column struct {
	ja, en string
	get    func(*Point) *string // text fields
	flag   func(*Point) *bool   // あり/なし fields
	enum   []enumValue          // allowed values, written in Japanese
}

type enumValue struct{ key, ja string }

var lineTypes = []enumValue{
	{LineInternet, "インターネット"}, {LineInternetVPN, "インターネットVPN"},
	{LineClosed, "閉域網"}, {LineMobile, "モバイル"},
}

var ipModes = []enumValue{{IPFixed, "固定IP"}, {IPDynamic, "動的IP"}}

var columns = []column{
	{ja: "ID", en: "id", get: func(p *Point) *string { return &p.ID }},
	{ja: "用途・システム名", en: "purpose", get: func(p *Point) *string { return &p.Purpose }},
	{ja: "電子カルテネットワーク接続", en: "echart_connected", flag: func(p *Point) *bool { return &p.EChart }},
	{ja: "脆弱性診断", en: "scan", flag: func(p *Point) *bool { return &p.Scan }},
	{ja: "通信形態", en: "line_type", get: func(p *Point) *string { return &p.LineType }, enum: lineTypes},
	{ja: "回線事業者", en: "carrier", get: func(p *Point) *string { return &p.Carrier }},
	{ja: "回線品目", en: "service", get: func(p *Point) *string { return &p.Service }},
	{ja: "プロバイダ名", en: "provider", get: func(p *Point) *string { return &p.Provider }},
	{ja: "プロバイダ品目", en: "provider_plan", get: func(p *Point) *string { return &p.ProviderPlan }},
	{ja: "回線終端装置設置場所", en: "onu_location", get: func(p *Point) *string { return &p.ONULocation }},
	{ja: "グローバルIPアドレス", en: "global_ip", get: func(p *Point) *string { return &p.GlobalIP }},
	{ja: "固定IP/動的IP", en: "ip_mode", get: func(p *Point) *string { return &p.IPMode }, enum: ipModes},
	{ja: "FQDN", en: "fqdn", get: func(p *Point) *string { return &p.FQDN }},
	{ja: "メーカー", en: "maker", get: func(p *Point) *string { return &p.Maker }},
	{ja: "機種名", en: "model", get: func(p *Point) *string { return &p.Model }},
	{ja: "ソフトウェアバージョン", en: "firmware", get: func(p *Point) *string { return &p.Firmware }},
	{ja: "LAN側管理アドレス", en: "lan_address", get: func(p *Point) *string { return &p.LANAddress }},
	{ja: "備考", en: "note", get: func(p *Point) *string { return &p.Note }},
}

const bom = "\ufeff"

// required columns must be in an imported CSV: without them no row is valid.
var required = []string{"id", "purpose", "line_type"}

// WriteCSV writes r in UTF-8 with a byte order mark, so that Excel on the
// hospital's PC opens the Japanese text correctly.
func WriteCSV(w io.Writer, r Register) error { return WriteCSVAs(w, r, UTF8) }

// WriteCSVAs writes r in enc. Every cell passes through Cell, so that a
// register field never runs as a formula when the file is opened. In CP932
// a character it lacks (𠮷, an emoji) fails the export naming every such
// cell, rather than turning into "?".
func WriteCSVAs(w io.Writer, r Register, enc Encoding) error {
	rows := csvRows(r)
	switch enc {
	case UTF8:
		if _, err := io.WriteString(w, bom); err != nil {
			return err
		}
		return writeRows(w, rows)
	case CP932:
		if err := checkCP932(rows); err != nil {
			return err
		}
		tw := transform.NewWriter(w, japanese.ShiftJIS.NewEncoder())
		if err := writeRows(tw, rows); err != nil {
			return err
		}
		return tw.Close()
	}
	return msg.Errorf("文字コード %q は使えません(utf-8 か cp932)", "unknown encoding %q (utf-8 or cp932)", string(enc))
}

// csvRows lays r out as the sheet: the Japanese header, then a row a
// point.
func csvRows(r Register) [][]string {
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = c.ja
	}
	rows := [][]string{head}
	for _, p := range r.Points {
		row := make([]string, len(columns))
		for i, c := range columns {
			switch {
			case c.flag != nil:
				row[i] = map[bool]string{true: "あり", false: "なし"}[*c.flag(&p)]
			case c.enum != nil:
				row[i] = *c.get(&p)
				for _, e := range c.enum {
					if e.key == row[i] {
						row[i] = e.ja
					}
				}
			default:
				row[i] = *c.get(&p)
			}
			row[i] = Cell(row[i])
		}
		rows = append(rows, row)
	}
	return rows
}

func writeRows(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return msg.Wrap(err, "CSV を書き出せません", "cannot write the CSV")
	}
	return nil
}

// checkCP932 lists every cell CP932 cannot hold.
func checkCP932(rows [][]string) error {
	errs := config.ValidationError{Title: msg.T("Shift_JIS(CP932)にない文字があります。UTF-8 で書き出してください:",
		"some characters do not exist in Shift_JIS (CP932); export in UTF-8 instead:")}
	for i, row := range rows {
		for j, v := range row {
			if !inCP932(v) {
				errs.AddText(cellName(j, i+1)+" "+rows[0][j], msg.Sprintf("「%s」", "%q", v))
			}
		}
	}
	return errs.Err()
}

// cellName is a cell's address as the spreadsheet shows it: column j
// (from 0) as letters, then the row (from 1). A person finds "C5" at once.
func cellName(j, row int) string {
	col := ""
	for j++; j > 0; j = (j - 1) / 26 {
		col = string(rune('A'+(j-1)%26)) + col
	}
	return col + strconv.Itoa(row)
}

// ReadCSV imports a register, in UTF-8 (with or without a byte order
// mark) or CP932 as Excel on Japanese Windows saves it. Columns are found
// by their Japanese or English header, in any order; missing optional
// columns stay empty. Every problem of every row is reported at once, as
// a config.ValidationError whose fields name the cell ("C5 用途・システム名").
func ReadCSV(rd io.Reader) (Register, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return Register{}, msg.Wrap(err, "CSV を読めません", "cannot read the CSV")
	}
	text, err := decodeCSV(data)
	if err != nil {
		return Register{}, err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true // a stray " inside a cell is text, as Excel means it
	head, err := cr.Read()
	if err != nil {
		return Register{}, msg.Wrap(err, "CSV の見出し行を読めません", "cannot read the CSV header")
	}
	im, err := newImport(head)
	if err != nil {
		return Register{}, err
	}
	im.readRows(cr)
	im.r.check(func(i int, field string, t msg.Text) {
		im.errs.AddText(im.cell(im.rows[i], field), t)
	}, func(i int) int { return im.rows[i] })
	if err := im.errs.Err(); err != nil {
		return Register{}, err
	}
	return im.r, nil
}

// csvImport is one CSV being read into a register.
type csvImport struct {
	head []string
	idx  []int // column → CSV field, -1 if absent
	r    Register
	rows []int // each point's row in the sheet (the header is row 1)
	errs config.ValidationError
}

// newImport finds the columns by the header and checks that the required
// ones are there.
func newImport(head []string) (*csvImport, error) {
	im := &csvImport{head: head, idx: make([]int, len(columns))}
	im.errs.Title = msg.T("CSV に誤りがあります(セル 見出し: 誤り):", "the CSV has errors (cell heading: problem):")
	for i, c := range columns {
		im.idx[i] = -1
		for j, h := range head {
			h = strings.TrimSpace(strings.TrimPrefix(h, bom))
			if h == c.ja || strings.EqualFold(h, c.en) {
				im.idx[i] = j
			}
		}
	}
	var ja, en []string
	for _, name := range required {
		if c := columnOf(name); im.idx[c] < 0 {
			ja, en = append(ja, columns[c].ja), append(en, columns[c].en)
		}
	}
	if len(ja) > 0 {
		missing := msg.Text{JA: strings.Join(ja, "、"), EN: strings.Join(en, ", ")}
		return nil, msg.Errorf("CSV に %s の列がありません", "the CSV has no column %s", missing)
	}
	return im, nil
}

// readRows reads every row into a point, noting the problems a row has
// before validation (a flag neither yes nor no). A row with no text is
// skipped; Excel writes those for blank rows inside the used range.
func (im *csvImport) readRows(cr *csv.Reader) {
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			// Past a broken quote the rows cannot be told apart: say
			// where, after what was found so far.
			im.errs.AddText(cellName(0, row), msg.Sprintf("この行から先を読めません: %v", "cannot read from this row on: %v", err))
			return
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		im.r.Points = append(im.r.Points, im.point(rec, row))
		im.rows = append(im.rows, row)
	}
}

// point reads one row.
func (im *csvImport) point(rec []string, row int) Point {
	var p Point
	for i, c := range columns {
		if im.idx[i] < 0 || im.idx[i] >= len(rec) {
			continue
		}
		v := uncell(strings.TrimSpace(rec[im.idx[i]]))
		switch {
		case c.flag != nil:
			switch strings.ToLower(v) {
			case "あり", "はい", "yes", "true", "1", "調査希望あり":
				*c.flag(&p) = true
			case "", "なし", "いいえ", "no", "false", "0", "調査希望なし":
			default:
				im.errs.AddText(im.cell(row, c.en), msg.T("あり か なし を記入してください", "write yes or no"))
			}
		case c.enum != nil:
			*c.get(&p) = v
			for _, e := range c.enum {
				if v == e.ja || strings.EqualFold(v, e.key) {
					*c.get(&p) = e.key
				}
			}
		default:
			*c.get(&p) = v
		}
	}
	return p
}

// cell names the cell of row under the column whose English name is en,
// with the heading the file gives it.
func (im *csvImport) cell(row int, en string) string {
	c := columnOf(en)
	if c < 0 || im.idx[c] < 0 {
		return strconv.Itoa(row) + " " + en // not in the file: the row alone
	}
	j := im.idx[c]
	return cellName(j, row) + " " + strings.TrimSpace(strings.TrimPrefix(im.head[j], bom))
}

// columnOf is the index in columns of the column named en, or -1.
func columnOf(en string) int {
	for i, c := range columns {
		if c.en == en {
			return i
		}
	}
	return -1
}
