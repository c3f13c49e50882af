package register

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

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

// WriteCSV writes r with a UTF-8 byte order mark, so that Excel on the
// hospital's PC opens the Japanese text correctly.
func WriteCSV(w io.Writer, r Register) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = c.ja
	}
	if err := cw.Write(head); err != nil {
		return err
	}
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
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV imports a register. Columns are found by their Japanese or
// English header, in any order; missing optional columns stay empty. The
// result is validated.
func ReadCSV(rd io.Reader) (Register, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return Register{}, msg.Wrap(err, "CSV の見出し行を読めません", "cannot read the CSV header")
	}
	idx := make([]int, len(columns)) // column → CSV field, -1 if absent
	for i, c := range columns {
		idx[i] = -1
		for j, h := range head {
			h = strings.TrimSpace(strings.TrimPrefix(h, bom))
			if h == c.ja || strings.EqualFold(h, c.en) {
				idx[i] = j
			}
		}
	}
	if idx[0] < 0 {
		return Register{}, msg.New("CSV に ID 列がありません", "the CSV has no ID column")
	}
	var r Register
	var errs []config.FieldError
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Register{}, msg.Errorf("CSV %d 行目を読めません: %w", "cannot read CSV line %d: %w", line, err)
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		var p Point
		for i, c := range columns {
			if idx[i] < 0 || idx[i] >= len(rec) {
				continue
			}
			v := strings.TrimSpace(rec[idx[i]])
			field := fmt.Sprintf("line %d %s", line, c.en)
			switch {
			case c.flag != nil:
				switch strings.ToLower(v) {
				case "あり", "はい", "yes", "true", "1", "調査希望あり":
					*c.flag(&p) = true
				case "", "なし", "いいえ", "no", "false", "0", "調査希望なし":
				default:
					errs = append(errs, config.FieldError{Field: field, Text: msg.T("あり か なし を記入してください", "write yes or no")})
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
		r.Points = append(r.Points, p)
	}
	if len(errs) > 0 {
		return Register{}, &config.ValidationError{Fields: errs}
	}
	if err := r.Validate(); err != nil {
		return Register{}, err
	}
	return r, nil
}
