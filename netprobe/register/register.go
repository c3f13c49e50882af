// Package register owns the hospital's register of external connection
// points, with the fields of the programme's 回線・機器情報記入シート, its
// JSON file, CSV import and export, and validation. The WAN-edge scan
// touches only the addresses written here.
package register

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Line types (通信形態).
const (
	LineInternet    = "internet"     // インターネット
	LineInternetVPN = "internet_vpn" // インターネットVPN
	LineClosed      = "closed"       // 閉域網
	LineMobile      = "mobile"       // モバイル回線
)

// Global address modes (固定IP/動的IP).
const (
	IPFixed   = "fixed"
	IPDynamic = "dynamic"
)

// Point is one external connection point: a line and the device that
// terminates it.
type Point struct {
	ID      string `json:"id"`      // CAF00001…
	Purpose string `json:"purpose"` // 用途・システム名
	// EChart: connected to the network the e-chart system belongs to.
	EChart bool `json:"echart_connected"`
	// Scan: 脆弱性診断 wanted. A point with Scan false is listed, never probed.
	Scan         bool   `json:"scan"`
	LineType     string `json:"line_type"`
	Carrier      string `json:"carrier"`        // 回線事業者
	Service      string `json:"service"`        // 回線品目
	Provider     string `json:"provider"`       // プロバイダ名
	ProviderPlan string `json:"provider_plan"`  // プロバイダ品目
	ONULocation  string `json:"onu_location"`   // 回線終端装置設置場所
	GlobalIP     string `json:"global_ip"`      // empty: unknown
	IPMode       string `json:"ip_mode"`        // fixed / dynamic
	FQDN         string `json:"fqdn"`           // informational; never resolved
	Maker        string `json:"maker"`          // メーカー
	Model        string `json:"model"`          // 機種名
	Firmware     string `json:"firmware"`       // ソフトウェアバージョン
	LANAddress   string `json:"lan_address"`    // LAN側管理アドレス
	Note         string `json:"note,omitempty"` // 備考
}

// Device is the maker and model as the report's 接続機器 column shows them.
func (p Point) Device() string {
	return strings.TrimSpace(p.Maker + " " + p.Model)
}

// Addresses are the addresses a scan of p may touch: the LAN-side
// management address and, where known, the global address.
func (p Point) Addresses() []Address {
	var out []Address
	if a, err := netip.ParseAddr(p.LANAddress); err == nil {
		out = append(out, Address{Addr: a, WAN: false})
	}
	if a, err := netip.ParseAddr(p.GlobalIP); err == nil && (len(out) == 0 || out[0].Addr != a) {
		out = append(out, Address{Addr: a, WAN: true})
	}
	return out
}

// Address is one scan target of a point.
type Address struct {
	Addr netip.Addr
	WAN  bool // the line's global address
}

// Register is the whole list, in the order the hospital numbered it.
type Register struct {
	Points []Point `json:"points"`
}

var idPattern = regexp.MustCompile(`^CAF[0-9]{5}$`)

// Validate reports every problem at once, as config.ValidationError.
func (r Register) Validate() error {
	var errs config.ValidationError
	r.check(func(i int, field string, t msg.Text) {
		errs.AddText(fmt.Sprintf("points[%d].%s", i, field), t)
	}, func(i int) int { return i + 1 })
	return errs.Err()
}

// check calls add for every problem of point i's field; row numbers a
// point as the person knows it (its place in the list, or its row in an
// imported CSV), for the duplicate ID message.
func (r Register) check(add func(i int, field string, t msg.Text), row func(i int) int) {
	seen := map[string]int{}
	for i, p := range r.Points {
		if !idPattern.MatchString(p.ID) {
			add(i, "id", msg.T("ID は CAF と数字5桁です（例: CAF00001）", "the ID is CAF and five digits (e.g. CAF00001)"))
		} else if j, dup := seen[p.ID]; dup {
			add(i, "id", msg.Sprintf("ID %s は %d 行目と重複しています", "ID %s repeats row %d", p.ID, row(j)))
		} else {
			seen[p.ID] = i
		}
		switch p.LineType {
		case LineInternet, LineInternetVPN, LineClosed, LineMobile:
		default:
			add(i, "line_type", msg.T("通信形態はインターネット、インターネットVPN、閉域網、モバイルのいずれかです",
				"the line type is internet, internet_vpn, closed or mobile"))
		}
		switch p.IPMode {
		case "", IPFixed, IPDynamic:
		default:
			add(i, "ip_mode", msg.T("固定IP か 動的IP を選んでください", "choose fixed or dynamic"))
		}
		if p.GlobalIP != "" && !usableAddr(p.GlobalIP) {
			add(i, "global_ip", msg.T("グローバルIPアドレスの形式が正しくありません（不明なら空欄）", "the global IP address is malformed (leave it empty if unknown)"))
		}
		if p.LANAddress != "" && !usableAddr(p.LANAddress) {
			add(i, "lan_address", msg.T("LAN側管理アドレスの形式が正しくありません", "the LAN-side management address is malformed"))
		}
		if strings.TrimSpace(p.Purpose) == "" {
			add(i, "purpose", msg.T("用途・システム名を記入してください", "fill in the purpose or system"))
		}
	}
}

// usableAddr reports whether s is one host's address as a register may
// hold it.
func usableAddr(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && !a.IsUnspecified() && !a.IsMulticast() && a.Zone() == ""
}

// Load reads the register at path. A missing file is an empty register:
// a new gateway has no connection points yet.
func Load(path string) (Register, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Register{}, nil
	}
	if err != nil {
		return Register{}, msg.Errorf("接続点台帳 %s を読めません: %w", "cannot read the register %s: %w", path, err)
	}
	var r Register
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return Register{}, msg.Errorf("接続点台帳 %s を読めません: %w", "cannot parse the register %s: %w", path, err)
	}
	if err := r.Validate(); err != nil {
		return Register{}, msg.Errorf("%s: %w", "%s: %w", path, err)
	}
	return r, nil
}

// Save validates r and writes it atomically.
func Save(path string, r Register) error {
	if err := r.Validate(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return msg.Wrap(err, "接続点台帳を書き出せません", "cannot encode the register")
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}
