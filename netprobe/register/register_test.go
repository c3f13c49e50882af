package register

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
)

func sample() Register {
	return Register{Points: []Point{
		{ID: "CAF00001", Purpose: "電子カルテ", EChart: true, Scan: true, LineType: LineInternetVPN,
			Carrier: "NTT東日本", Service: "フレッツ光クロス", Provider: "AsahiNet", ProviderPlan: "光クロス",
			ONULocation: "本部棟 3F サーバールーム 1番ラック 3U", GlobalIP: "203.0.113.7", IPMode: IPFixed,
			FQDN: "vpn.example.jp", Maker: "Fortinet", Model: "FortiGate 60F", Firmware: "7.2.5 build1517",
			LANAddress: "192.168.1.1"},
		{ID: "CAF00002", Purpose: "医事, 保守回線", LineType: LineMobile, Maker: "Yamaha", Model: "RTX1210"},
	}}
}

func TestCSVRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), bom+"ID,用途・システム名,") || !strings.Contains(buf.String(), "インターネットVPN") {
		t.Fatalf("unexpected CSV:\n%s", buf.String())
	}
	got, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sample()) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, sample())
	}
}

func TestReadCSVEnglishHeadersAnyOrder(t *testing.T) {
	in := "line_type,ID,purpose,scan,global_ip\ninternet,CAF00009,UTM,yes,198.51.100.4\n"
	r, err := ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	p := r.Points[0]
	if p.ID != "CAF00009" || p.LineType != LineInternet || !p.Scan || p.GlobalIP != "198.51.100.4" {
		t.Fatalf("got %+v", p)
	}
}

func TestValidateMessages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Register)
		field string
		ja    string
	}{
		{"bad id", func(r *Register) { r.Points[0].ID = "CAF1" }, "points[0].id", "CAF と数字5桁"},
		{"duplicate id", func(r *Register) { r.Points[1].ID = "CAF00001" }, "points[1].id", "重複"},
		{"line type", func(r *Register) { r.Points[0].LineType = "fax" }, "points[0].line_type", "通信形態"},
		{"global ip", func(r *Register) { r.Points[0].GlobalIP = "203.0.113" }, "points[0].global_ip", "グローバルIP"},
		{"lan address", func(r *Register) { r.Points[1].LANAddress = "0.0.0.0" }, "points[1].lan_address", "LAN側"},
		{"purpose", func(r *Register) { r.Points[1].Purpose = " " }, "points[1].purpose", "用途"},
		{"ip mode", func(r *Register) { r.Points[1].IPMode = "static" }, "points[1].ip_mode", "固定IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sample()
			tc.edit(&r)
			err := r.Validate()
			var ve *config.ValidationError
			if !errors.As(err, &ve) || len(ve.For(tc.field)) != 1 {
				t.Fatalf("want one error for %s, got %v", tc.field, err)
			}
			f := ve.For(tc.field)[0]
			if !strings.Contains(f.Text.JA, tc.ja) || f.Text.EN == "" {
				t.Fatalf("message %q / %q", f.Text.JA, f.Text.EN)
			}
		})
	}
	if err := sample().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestReadCSVRejects(t *testing.T) {
	for _, in := range []string{
		"purpose\nx\n",                           // no ID column
		"ID,purpose,scan\nCAF00001,x,maybe\n",    // bad flag
		"ID,purpose,line_type\nCAF00001,x,fax\n", // bad enum
	} {
		if _, err := ReadCSV(strings.NewReader(in)); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.json")
	if r, err := Load(path); err != nil || len(r.Points) != 0 {
		t.Fatalf("missing file: %v %v", r, err)
	}
	if err := Save(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil || !reflect.DeepEqual(got, sample()) {
		t.Fatalf("load: %v %+v", err, got)
	}
	bad := sample()
	bad.Points[0].ID = "x"
	if err := Save(path, bad); err == nil {
		t.Fatal("saved an invalid register")
	}
}

func TestAddresses(t *testing.T) {
	a := sample().Points[0].Addresses()
	if len(a) != 2 || a[0].WAN || !a[1].WAN || a[1].Addr.String() != "203.0.113.7" {
		t.Fatalf("%+v", a)
	}
	if len(sample().Points[1].Addresses()) != 0 {
		t.Fatal("a point without addresses has targets")
	}
}
