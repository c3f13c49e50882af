package netprobe

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

const (
	asaConfigAuth = `<?xml version="1.0" encoding="UTF-8"?>
<config-auth client="vpn" type="complete">
<version who="sg">9.16(4)48</version>
<error id="98" param1="" param2="">VPN Server could not parse request.</error>
</config-auth>
`
	asaAuthRequest = `<?xml version="1.0" encoding="UTF-8"?>
<config-auth client="vpn" type="auth-request" aggregate-auth-version="2">
  <version who="sg">9.12(4)13</version>
  <opaque is-for="sg"><tunnel-group>DefaultWEBVPNGroup</tunnel-group></opaque>
  <auth id="main"><form><input type="text" name="username" label="Username:"></input></form></auth>
</config-auth>`
	ginaVer = `<html>
<head><title>Network Connect</title></head>
<body>
<OBJECT id="NeoterisSetup" classid="clsid:E5F5D008-DD2C-4D32-977D-1A0ADF03058B" codebase="/dana-cached/setup/JuniperSetupSP1.cab#Version=22,7,2,3191">
<PARAM NAME="ProductName" VALUE="Ivanti Connect Secure">
<PARAM NAME="ProductVersion" VALUE="22.7.2.3191">
<PARAM NAME="DownloadPath" VALUE="/dana-cached/nc/">
</OBJECT>
</body>
</html>
`
	ivantiWelcome = `<!DOCTYPE html><html><head><title>Ivanti Connect Secure</title>
<link rel="stylesheet" href="/dana-na/css/ds_f6c0b1d62c8fb44d0a4bb7b7be6a4e1d67b0e31c5ed6b24e7ecb5e1d2e54d7a9.css" type="text/css">
</head><body><form name="frmLogin" action="login.cgi" method="POST"><input type="password" name="password"></form></body></html>`
	citrixIndex = `<!DOCTYPE html><html><head><title>NetScaler AAA</title>
<link rel="stylesheet" type="text/css" href="/vpn/js/rdx/core/css/rdx.css?v=14195083e08df261613408eb5cf3b212">
<script type="text/javascript" src="/vpn/js/rdx/core/js/rdx.js?v=14195083e08df261613408eb5cf3b212"></script>
</head><body></body></html>`
	smaWelcome = `<html><head><title>Virtual Office</title>
<link href="/css/swl_styles.10.2.1.9-57sv.css" rel="stylesheet" type="text/css">
</head><body><form><input type="password" name="password"></form></body></html>`
)

// page serves body. A client that hangs up before reading it is the
// client's business: the test judges what the client made of it.
func page(body string) http.HandlerFunc {
	return func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, body) }
}

// gzipFile is a gzip file named name whose header records mtime.
func gzipFile(t testing.TB, name string, mtime time.Time) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Name, z.ModTime = name, mtime
	if _, err := z.Write([]byte(`{"lang":"en"}`)); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHintParsers(t *testing.T) {
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	stamp := time.Date(2023, 5, 12, 7, 33, 58, 0, time.UTC)
	for _, tc := range []struct {
		name, vendor, path string
		page               bool // the login page rather than a hint file
		hdr                http.Header
		body               string
		want               []VersionHint
	}{
		{"ASA config-auth", "cisco", "/CSCOSSLC/config-auth", false, nil, asaConfigAuth,
			[]VersionHint{{Source: "/CSCOSSLC/config-auth", Raw: "9.16(4)48", Vendor: "cisco", Version: "9.16(4)48", Exact: true, Confidence: "high"}}},
		{"ASA auth-request", "cisco", "/CSCOSSLC/config-auth", false, nil, asaAuthRequest,
			[]VersionHint{{Source: "/CSCOSSLC/config-auth", Raw: "9.12(4)13", Vendor: "cisco", Version: "9.12(4)13", Exact: true, Confidence: "high"}}},
		{"ASA without version", "cisco", "/CSCOSSLC/config-auth", false, nil, `<config-auth client="vpn" type="complete"></config-auth>`, nil},
		{"ASA version outside config-auth", "cisco", "/CSCOSSLC/config-auth", false, nil, `<version who="sg">9.16(4)48</version>`, nil},
		{"Ivanti nc_gina_ver", "ivanti", "/dana-na/nc/nc_gina_ver.txt", false, nil, ginaVer,
			[]VersionHint{{Source: "/dana-na/nc/nc_gina_ver.txt", Raw: "22.7.2.3191", Vendor: "ivanti", Version: "22.7R2 build 3191", Upper: "22.7R2.99999", Confidence: "low"}}},
		{"Pulse nc_gina_ver", "ivanti", "/dana-na/nc/nc_gina_ver.txt", false, nil, `<PARAM NAME="ProductVersion" VALUE="8.3.7.65025">`,
			[]VersionHint{{Source: "/dana-na/nc/nc_gina_ver.txt", Raw: "8.3.7.65025", Vendor: "ivanti", Version: "8.3R7 build 65025", Upper: "8.3R7.99999", Confidence: "low"}}},
		{"Ivanti stylesheet hash", "ivanti", "/dana-na/auth/url_default/welcome.cgi", true, nil, ivantiWelcome,
			[]VersionHint{{Source: "/dana-na/auth/url_default/welcome.cgi", Raw: "/dana-na/css/ds_f6c0b1d62c8fb44d0a4bb7b7be6a4e1d67b0e31c5ed6b24e7ecb5e1d2e54d7a9",
				Hash: "f6c0b1d62c8fb44d0a4bb7b7be6a4e1d67b0e31c5ed6b24e7ecb5e1d2e54d7a9", Confidence: "low"}}},
		{"NetScaler resource hash", "citrix", "/vpn/index.html", true, nil, citrixIndex,
			[]VersionHint{{Source: "/vpn/index.html", Raw: ".css?v=14195083e08df261613408eb5cf3b212", Hash: "14195083e08df261613408eb5cf3b212", Confidence: "low"}}},
		{"NetScaler gzip stamp", "citrix", "/vpn/js/rdx/core/lang/rdx_en.json.gz", false, nil, string(gzipFile(t, "rdx_en.json", stamp)),
			[]VersionHint{{Source: "/vpn/js/rdx/core/lang/rdx_en.json.gz", Raw: "gzip mtime 1683876838", BuildDate: "2023-05-12", Confidence: "low"}}},
		{"NetScaler not gzip", "citrix", "/vpn/js/rdx/core/lang/rdx_en.json.gz", false, nil, `{"lang":"en"}`, nil},
		{"GlobalProtect ETag", "paloalto", "/global-protect/login.esp", true, hdr("ETag", `"6e185d5daf9a"`), "<html></html>",
			[]VersionHint{{Source: "/global-protect/login.esp", Raw: `ETag: "6e185d5daf9a"`, BuildDate: "2019-08-21", Confidence: "low"}}},
		{"nginx ETag and Last-Modified", "paloalto", "/global-protect/portal/css/login.css", false,
			hdr("ETag", `"657ccc1c-871bb"`, "Last-Modified", "Fri, 15 Dec 2023 21:58:52 GMT"), "body{}",
			[]VersionHint{{Source: "/global-protect/portal/css/login.css", Raw: `ETag: "657ccc1c-871bb"`, BuildDate: "2023-12-15", Confidence: "low"}}},
		{"FortiOS ETag", "fortinet", "/remote/fgt_lang?lang=en", false, hdr("ETag", `"2a1f-647e4280"`), "var fgt_lang = {};",
			[]VersionHint{{Source: "/remote/fgt_lang?lang=en", Raw: `ETag: "2a1f-647e4280"`, BuildDate: "2023-06-05", Confidence: "low"}}},
		{"Last-Modified only", "fortinet", "/remote/fgt_lang?lang=en", false, hdr("Last-Modified", "Mon, 05 Jun 2023 20:16:00 GMT"), "",
			[]VersionHint{{Source: "/remote/fgt_lang?lang=en", Raw: "Last-Modified: Mon, 05 Jun 2023 20:16:00 GMT", BuildDate: "2023-06-05", Confidence: "low"}}},
		{"content-hash ETag", "fortinet", "/remote/fgt_lang?lang=en", false, hdr("ETag", `W/"5d41402abc4b2a76b9719d911017c592"`), "", nil},
		{"Apache ETag (microseconds)", "fortinet", "/remote/fgt_lang?lang=en", false, hdr("ETag", `"2b-5d4c7e1f2a3b0"`), "", nil},
		{"generated page's Last-Modified", "paloalto", "/global-protect/login.esp", true,
			hdr("Last-Modified", "Mon, 05 Jun 2023 20:16:00 GMT", "Date", "Mon, 05 Jun 2023 20:16:01 GMT"), "", nil},
		{"ETag before 2005", "fortinet", "/remote/fgt_lang?lang=en", false, hdr("ETag", `"00000001"`), "", nil},
		{"SMA stylesheet", "sonicwall", "/cgi-bin/welcome", true, nil, smaWelcome,
			[]VersionHint{{Source: "/cgi-bin/welcome", Raw: "swl_styles.10.2.1.9-57sv", Vendor: "sonicwall", Version: "10.2.1.9-57sv", Exact: true, Confidence: "high"}}},
		{"SMA Server header", "sonicwall", "/cgi-bin/welcome", true, hdr("Server", "SMA/12.4"), "<html></html>",
			[]VersionHint{{Source: "/cgi-bin/welcome", Raw: "Server: SMA/12.4", Version: "12.4", Confidence: "low"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.hdr
			if h == nil {
				h = http.Header{}
			}
			parse := fileParsers[tc.vendor]
			if tc.page {
				parse = pageParsers[tc.vendor]
			}
			got := readHints(parse, tc.path, h, []byte(tc.body))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// hintFeed holds entries of the embedded feed these tests compare with
// (fixed, last and open-ended ranges), so that the tests do not move with
// the feed.
func hintFeed() *kev.Feed {
	fixed := func(from, fixed string) kev.Range { return kev.Range{From: from, Fixed: fixed} }
	last := func(from, last string) kev.Range { return kev.Range{From: from, Last: last} }
	return &kev.Feed{Date: "2025-07-10", Entries: []kev.Entry{
		{CVE: "CVE-2024-20353", Vendor: "cisco", Product: "ASA", NameJA: "Web サービスのサービス妨害", NameEN: "web services denial of service",
			Affected: []kev.Range{last("9.14(1)", "9.14(4)23"), last("9.16(1)", "9.16(4)55"), last("9.17(1)", "9.17(1)33")}},
		{CVE: "CVE-2019-11510", Vendor: "ivanti", Product: "Pulse Connect Secure", NameJA: "任意ファイル読み出し", NameEN: "arbitrary file read",
			Affected: []kev.Range{fixed("8.2R1", "8.2R12.1"), fixed("8.3R1", "8.3R7.1"), fixed("9.0R1", "9.0R3.4")}},
		{CVE: "CVE-2025-0282", Vendor: "ivanti", Product: "Connect Secure", NameJA: "スタックオーバーフロー", NameEN: "stack-based buffer overflow",
			Affected: []kev.Range{last("22.7R2", "22.7R2.4")}},
		{CVE: "CVE-2025-22457", Vendor: "ivanti", Product: "Connect Secure", NameJA: "スタックオーバーフロー", NameEN: "stack-based buffer overflow",
			Affected: []kev.Range{{Fixed: "22.7R2.6"}}},
	}}
}

func TestMatchHint(t *testing.T) {
	feed := hintFeed()
	ivanti := func(raw string) VersionHint {
		h, ok := parseIvantiGinaVer([]byte(`<PARAM NAME="ProductVersion" VALUE="` + raw + `">`))
		if !ok {
			t.Fatalf("%s not parsed", raw)
		}
		return h
	}
	asa := VersionHint{Vendor: "cisco", Version: "9.16(4)48", Exact: true}
	for _, tc := range []struct {
		name string
		h    VersionHint
		want string // "CVE certain|possible", sorted as the feed
	}{
		{"ASA in range", asa, "CVE-2024-20353 certain"},
		{"ASA fixed", VersionHint{Vendor: "cisco", Version: "9.16(4)57", Exact: true}, ""},
		{"ASA last affected", VersionHint{Vendor: "cisco", Version: "9.16(4)55", Exact: true}, "CVE-2024-20353 certain"},
		{"ASA dotted spelling", VersionHint{Vendor: "cisco", Version: "9.16.4.48", Exact: true}, "CVE-2024-20353 certain"},
		// 22.7R2.0 to 22.7R2.4 are affected by both, 22.7R2.6 by neither.
		{"Ivanti train partly affected", ivanti("22.7.2.3191"), "CVE-2025-0282 possible, CVE-2025-22457 possible"},
		// Every 8.3R6.x is below the fix 8.3R7.1 (and before 22.7R2.6).
		{"Pulse train wholly affected", ivanti("8.3.6.64943"), "CVE-2019-11510 certain, CVE-2025-22457 certain"},
		{"Pulse train straddling the fix", ivanti("8.3.7.65025"), "CVE-2019-11510 possible, CVE-2025-22457 certain"},
		// A range that begins inside the span: 9.16(1) within 9.16(0)…
		{"range starting inside", VersionHint{Vendor: "cisco", Version: "9.16(0)", Upper: "9.16(9)", Exact: false}, "CVE-2024-20353 possible"},
		{"Ivanti train unaffected", ivanti("22.8.1.1111"), ""},
		{"date only", VersionHint{BuildDate: "2023-06-05"}, ""},
		{"not comparable", VersionHint{Version: "10.2.1.9-57sv", Exact: true}, ""},
	} {
		var got []string
		for _, m := range matchHint(feed, tc.h) {
			got = append(got, m.CVE+map[bool]string{true: " certain", false: " possible"}[m.Certain])
		}
		if s := strings.Join(got, ", "); s != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, s, tc.want)
		}
	}
}

func TestHintAgrees(t *testing.T) {
	train, _ := parseIvantiGinaVer([]byte(ginaVer))
	asa, _ := parseASAConfigAuth([]byte(asaConfigAuth))
	for _, tc := range []struct {
		h    VersionHint
		reg  string
		want bool
	}{
		{train, "22.7R2.6", true},
		{train, "22.7R2", true},
		{train, "22.7R1.3", false},
		{train, "22.8R2", false},
		{asa, "9.16(4)48", true},
		{asa, "9.16.4.48", true},
		{asa, "9.16(4)57", false},
		{asa, "ASA 9.16 最新", false},
		{VersionHint{Version: "10.2.1.9-57sv", Exact: true}, "v10.2.1.9-57sv", true},
	} {
		if got := tc.h.agrees(tc.reg); got != tc.want {
			t.Errorf("%s agrees with register %q: %v", tc.h.Version, tc.reg, got)
		}
	}
}

// TestJudgeHints checks the findings a portal's version gives: the
// known-exploited 注意 from the announced version with where it came from,
// firmware_differs when the register says otherwise, and nothing extra
// when the register agrees.
func TestJudgeHints(t *testing.T) {
	feed := hintFeed()
	portal := func(hints ...VersionHint) Port {
		return Port{Proto: "tcp", Port: 443, Service: Service{Name: "https"}, HTTP: &HTTPInfo{Status: 200, Portal: "Cisco ASA WebVPN", PortalPath: "/+CSCOE+/logon.html", Vendor: "cisco", Hints: hints}}
	}
	asa, _ := parseASAConfigAuth([]byte(asaConfigAuth))
	asa.Source = "/CSCOSSLC/config-auth"
	judge := func(p register.Point, hosts ...Host) Target {
		r := &Report{Targets: []Target{{No: 1, Point: p, Hosts: hosts}}}
		r.judge(feed, nil)
		return r.Targets[0]
	}
	count := func(t Target, rule string) (n int, f Finding) {
		for _, g := range t.Findings {
			if g.Rule == rule {
				n, f = n+1, g
			}
		}
		return n, f
	}
	point := register.Point{ID: "CAF00003", Scan: true, Maker: "Cisco", Model: "ASA 5506-X", Firmware: "9.16(4)57", LANAddress: "10.0.0.1", GlobalIP: "192.0.2.1"}
	lan, wan := Host{Addr: "10.0.0.1", Ports: []Port{portal(asa)}}, Host{Addr: "192.0.2.1", WAN: true, Ports: []Port{portal(asa)}}

	got := judge(point, lan, wan)
	if n, f := count(got, RuleKEV); n != 1 || !f.Caution || !strings.Contains(f.JA, "CVE-2024-20353") ||
		!strings.Contains(f.JA, "SSL-VPN ポータル（10.0.0.1 443/tcp /CSCOSSLC/config-auth）が示す版 9.16(4)48") ||
		!strings.Contains(f.EN, "the SSL-VPN portal (10.0.0.1 443/tcp /CSCOSSLC/config-auth) announces 9.16(4)48") || f.Addr != "10.0.0.1" {
		t.Errorf("KEV: %d %+v", n, f)
	}
	if n, f := count(got, RuleFirmware); n != 2 || !strings.Contains(f.JA, "9.16(4)48 が台帳の版 9.16(4)57 と異なります") {
		t.Errorf("firmware differs (one per address): %d %+v", n, f)
	}
	if !slices.ContainsFunc(got.Findings, func(f Finding) bool { return f.Rule == RuleInfo && strings.Contains(f.JA, "確度: 高") }) {
		t.Errorf("no hint info finding: %+v", got.Findings)
	}

	// The register agrees: its own claim is the KEV finding, once.
	point.Firmware = "9.16(4)48"
	got = judge(point, lan)
	if n, f := count(got, RuleKEV); n != 1 || !strings.Contains(f.JA, "台帳の版 9.16(4)48") {
		t.Errorf("register agrees, KEV: %d %+v", n, f)
	}
	if n, _ := count(got, RuleFirmware); n != 0 {
		t.Errorf("register agrees but firmware differs: %+v", got.Findings)
	}

	// SonicWall SMA states its firmware. SMA 100 and SonicOS share the
	// feed vendor but not their version numbers (SMA 9.x/10.x, SonicOS
	// 5–8), so a SonicOS range never matches an SMA release.
	sma, _ := parseSonicWallSMA("", []byte(smaWelcome))
	sma.Source = "/cgi-bin/welcome"
	got = judge(register.Point{ID: "CAF00008", Scan: true, Maker: "SonicWall", Model: "SMA 210", Firmware: "10.2.1.13-72sv", LANAddress: "10.0.0.3"},
		Host{Addr: "10.0.0.3", Ports: []Port{portal(sma)}})
	if n, f := count(got, RuleFirmware); n != 1 || !strings.Contains(f.JA, "10.2.1.9-57sv が台帳の版 10.2.1.13-72sv と異なります") {
		t.Errorf("SMA firmware differs: %d %+v", n, got.Findings)
	}
	if n, _ := count(got, RuleKEV); n != 0 {
		t.Errorf("SMA 10.2.1.9 matched a SonicOS range: %+v", got.Findings)
	}

	// An Ivanti train hint: a 注意 that says how little is known.
	train, _ := parseIvantiGinaVer([]byte(ginaVer))
	train.Source = "/dana-na/nc/nc_gina_ver.txt"
	ics := Host{Addr: "10.0.0.2", Ports: []Port{portal(train)}}
	ics.Ports[0].HTTP.Portal, ics.Ports[0].HTTP.PortalPath, ics.Ports[0].HTTP.Vendor = "Ivanti Connect Secure", "/dana-na/auth/url_default/welcome.cgi", "ivanti"
	got = judge(register.Point{ID: "CAF00009", Scan: true, Maker: "Ivanti", Model: "ISA6000", Firmware: "22.7R1.3", LANAddress: "10.0.0.2"}, ics)
	// The register's 22.7R1.3 is judged on its own (CVE-2025-22457); the
	// portal's train adds two 注意 at its address.
	var fromPortal []Finding
	for _, f := range got.Findings {
		if f.Rule == RuleKEV && f.Addr == "10.0.0.2" {
			fromPortal = append(fromPortal, f)
		}
	}
	if n, _ := count(got, RuleKEV); n != 3 || len(fromPortal) != 2 || !fromPortal[0].Caution ||
		!strings.Contains(fromPortal[0].JA, "確度: 低") || !strings.Contains(fromPortal[1].EN, "may be in the range") {
		t.Errorf("Ivanti KEV: %d %+v", n, got.Findings)
	}
	if n, f := count(got, RuleFirmware); n != 1 || !strings.Contains(f.JA, "（推定、確度: 低）") {
		t.Errorf("Ivanti firmware differs: %d %+v", n, f)
	}
	// The register names a release of the announced train: it is judged,
	// not the vaguer hint.
	got = judge(register.Point{ID: "CAF00009", Scan: true, Maker: "Ivanti", Model: "ISA6000", Firmware: "22.7R2.6", LANAddress: "10.0.0.2"}, ics)
	if n, _ := count(got, RuleKEV); n != 0 {
		t.Errorf("patched register release: %+v", got.Findings)
	}
	if n, _ := count(got, RuleFirmware); n != 0 {
		t.Errorf("register within the train: %+v", got.Findings)
	}
}

// TestFetchHTTPHints reads the hints of portals served on 127.0.0.1: the
// files are fetched only for the portal found, and a gzip file arrives
// raw (its header is the hint).
func TestFetchHTTPHints(t *testing.T) {
	var paths []string
	stamp := time.Date(2024, 6, 8, 7, 28, 50, 0, time.UTC)
	mux := http.NewServeMux()
	mux.HandleFunc("/dana-na/auth/url_default/welcome.cgi", page(ivantiWelcome))
	mux.HandleFunc("/dana-na/nc/nc_gina_ver.txt", page(ginaVer))
	mux.HandleFunc("/vpn/index.html", page(citrixIndex))
	mux.HandleFunc("/vpn/js/rdx/core/lang/rdx_en.json.gz", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Content-Encoding", "gzip")        // as a browser would be told
		_, _ = rw.Write(gzipFile(t, "rdx_en.json", stamp)) // as page
	})
	for _, tc := range []struct {
		only    string // the portal this server pretends to be
		portal  string
		version string
		hints   int
	}{
		{"/dana-na/", "Ivanti Connect Secure", "22.7R2 build 3191", 2},
		{"/vpn/", "NetScaler Gateway", "", 2},
	} {
		paths = nil
		srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			paths = append(paths, r.URL.Path)
			if !strings.HasPrefix(r.URL.Path, tc.only) {
				http.NotFound(rw, r)
				return
			}
			mux.ServeHTTP(rw, r)
		}))
		h := fetchHTTP(context.Background(), srv.URL, &Options{BannerWait: 5 * time.Second})
		srv.Close()
		if h == nil || h.Portal != tc.portal || len(h.Hints) != tc.hints {
			t.Fatalf("%s: %+v", tc.portal, h)
		}
		if b, _ := bestHint(h.Hints); b.Version != tc.version {
			t.Errorf("%s: best hint %+v", tc.portal, b)
		}
		if tc.portal == "NetScaler Gateway" && h.Hints[1].BuildDate != "2024-06-08" {
			t.Errorf("gzip stamp: %+v", h.Hints)
		}
		// front page, the portal paths up to the match, then its files
		if n := len(paths); n > 1+len(portals)+2 {
			t.Errorf("%s: %d requests: %v", tc.portal, n, paths)
		}
	}
}
