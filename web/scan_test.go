package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	cp932 "golang.org/x/text/encoding/japanese"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
	"github.com/danzen-gw/danzen/netprobe/kev"
)

// scanEdge is the fake edge device's LAN-side address, on loopback as
// every address the tests touch.
const scanEdge = "127.77.9.2"

func pointForm(id, lan string) url.Values {
	return url.Values{"id": {id}, "purpose": {"インターネット接続 UTM"}, "scan": {"on"}, "line_type": {"internet"},
		"carrier": {"NTT東日本"}, "maker": {"Example"}, "model": {"Edge 60"}, "firmware": {"1.2.3"}, "lan_address": {lan}}
}

// upload posts one file the way the page's upload forms do.
func (c *client) upload(path, field, name string, data []byte) resp {
	c.e.t.Helper()
	if c.csrf == "" {
		c.csrf = formToken(c.e.t, c.get("/account").body)
	}
	body, contentType := multipartForm(c.e.t, map[string]string{auth.CSRFField: c.csrf}, formFile{field, name, data})
	req, err := http.NewRequest("POST", c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "text/html")
	return c.send(req)
}

// formFile is a file chosen in an upload field.
type formFile struct {
	field, name string
	data        []byte
}

// multipartForm is a form with fields and files, as a browser sends an
// upload.
func multipartForm(t *testing.T, fields map[string]string, files ...formFile) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &body, mw.FormDataContentType()
}

func TestScanRegisterEditImportExport(t *testing.T) {
	// The lab setting admits the loopback stand-in for the edge device;
	// without it the register refuses loopback at entry (below).
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) { cfg.Scan.LoopbackLab = true }})
	admin := e.login("admin", adminPW)
	if r := admin.get("/scan"); r.code != http.StatusOK || !strings.Contains(r.body, `id="point-form"`) {
		t.Fatalf("GET /scan: %d", r.code)
	}

	// A bad address and a bad ID are shown beside their fields; nothing is saved.
	bad := pointForm("CAF1", "192.168.1.300")
	r := admin.post("/scan/register", bad)
	if r.code != http.StatusOK || !contains(fieldErrors(r.body, "lan_address"), "LAN側管理アドレスの形式が正しくありません") || !contains(fieldErrors(r.body, "id"), "CAF と数字5桁") {
		t.Fatalf("bad point: %d lan %v id %v", r.code, fieldErrors(r.body, "lan_address"), fieldErrors(r.body, "id"))
	}
	if !strings.Contains(r.body, `value="192.168.1.300"`) {
		t.Fatal("the typed address was not shown again")
	}
	if reg, _ := e.g.Register(); len(reg.Points) != 0 {
		t.Fatalf("an invalid point was saved: %+v", reg)
	}

	// An address no line's device can have is refused beside its field.
	r = admin.post("/scan/register", pointForm("CAF00001", "169.254.10.10"))
	if r.code != http.StatusOK || !contains(fieldErrors(r.body, "lan_address"), "169.254.10.10 はリンクローカルアドレスです") {
		t.Fatalf("link-local point: %d lan %v", r.code, fieldErrors(r.body, "lan_address"))
	}
	if r := admin.post("/scan/register", pointForm("CAF00001", scanEdge)); r.code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	edit := pointForm("CAF00001", scanEdge)
	edit.Set("orig", "CAF00001")
	edit.Set("purpose", "保守回線ルータ")
	edit.Set("global_ip", "203.0.113.7") // documentation range, only written down: never scanned here
	if r := admin.post("/scan/register", edit); r.code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.code, r.body)
	}
	if r := admin.post("/scan/register", pointForm("CAF00002", "127.77.9.3")); r.code != http.StatusSeeOther {
		t.Fatalf("add second: %d", r.code)
	}
	if body := admin.get("/scan?lang=ja").body; !strings.Contains(body, "保守回線ルータ") || !strings.Contains(body, `data-point="CAF00002"`) {
		t.Fatal("the register table does not show the edit")
	}
	changes := e.entries(ledger.KindRegisterChange)
	if len(changes) != 3 || changes[1].Actor != "admin" || !strings.Contains(string(changes[1].Data), `"changed":["CAF00001"]`) {
		t.Fatalf("register changes in the ledger: %+v", changes)
	}

	// Export, delete, import the export: the same register.
	before, _ := e.g.Register()
	exp := admin.get("/scan/register.csv")
	if exp.code != http.StatusOK || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(exp.body, "\ufeffID,用途・システム名") {
		t.Fatalf("export: %d %q", exp.code, exp.body)
	}
	if r := admin.post("/scan/register/delete", url.Values{"id": {"CAF00001"}}); r.code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.code)
	}
	if reg, _ := e.g.Register(); len(reg.Points) != 1 || reg.Points[0].ID != "CAF00002" {
		t.Fatalf("after delete: %+v", reg)
	}
	if r := admin.upload("/scan/register/import", "csv", "register.csv", []byte(exp.body)); r.code != http.StatusSeeOther {
		t.Fatalf("import: %d %s", r.code, r.body)
	}
	after, _ := e.g.Register()
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("round trip:\n%+v\n%+v", before, after)
	}
	// In Shift_JIS on request, as Excel on Japanese Windows saves CSV;
	// importing that file gives the same register.
	sjis := admin.get("/scan/register.csv?encoding=cp932")
	if want, err := cp932.ShiftJIS.NewEncoder().String(strings.TrimPrefix(exp.body, "\ufeff")); err != nil || sjis.code != http.StatusOK ||
		sjis.body != want || !strings.Contains(sjis.header.Get("Content-Type"), "shift_jis") {
		t.Fatalf("CP932 export: %d %q %q (%v)", sjis.code, sjis.header.Get("Content-Type"), sjis.body, err)
	}
	if r := admin.upload("/scan/register/import", "csv", "register.csv", []byte(sjis.body)); r.code != http.StatusSeeOther {
		t.Fatalf("CP932 import: %d %s", r.code, r.body)
	}
	if reg, _ := e.g.Register(); fmt.Sprint(reg) != fmt.Sprint(before) {
		t.Fatalf("CP932 round trip:\n%+v\n%+v", before, reg)
	}
	// A CSV with a bad line type is refused with its line named.
	broken := strings.Replace(exp.body, "インターネット", "衛星回線", 1)
	r = admin.upload("/scan/register/import", "csv", "register.csv", []byte(broken))
	if errs := fieldErrors(r.body, "csv"); r.code != http.StatusOK || !contains(errs, "通信形態") {
		t.Fatalf("broken import: %d %v", r.code, errs)
	}
	if reg, _ := e.g.Register(); fmt.Sprint(reg) != fmt.Sprint(before) {
		t.Fatal("a refused import changed the register")
	}

	// The auditor reads and downloads, and changes nothing.
	aud := e.addUser("auditor1", auth.RoleAuditor)
	if r := aud.get("/scan"); r.code != http.StatusOK || strings.Contains(r.body, `id="point-form"`) || strings.Contains(r.body, `id="scan-now"`) || !strings.Contains(r.body, `data-point="CAF00002"`) {
		t.Fatalf("auditor's page: %d", r.code)
	}
	if r := aud.get("/scan/register.csv"); r.code != http.StatusOK {
		t.Fatalf("auditor export: %d", r.code)
	}
	staff := e.addUser("staff1", auth.RoleStaff)
	for _, c := range []*client{aud, staff} {
		for path, form := range map[string]url.Values{
			"/scan/register": pointForm("CAF00009", "127.77.9.4"), "/scan/register/delete": {"id": {"CAF00002"}},
			"/scan/run": {}, "/scan/feed": {"feed": {"{}"}}, "/scan/register/import": {"csv": {exp.body}},
		} {
			if r := c.post(path, form); r.code != http.StatusForbidden {
				t.Errorf("POST %s by a read-only role: %d", path, r.code)
			}
		}
	}
	// Without the CSRF token, even the admin is refused.
	if r := admin.do("POST", "/scan/register/delete", url.Values{"id": {"CAF00002"}}); r.code != http.StatusForbidden {
		t.Fatalf("POST without CSRF: %d", r.code)
	}
	if reg, _ := e.g.Register(); fmt.Sprint(reg) != fmt.Sprint(before) {
		t.Fatal("a refused request changed the register")
	}
}

func TestScanNowReportsAndDownloads(t *testing.T) {
	ln, err := net.Listen("tcp", net.JoinHostPort(scanEdge, "0"))
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, ln)
	fakeedge.Greet(ln, "SSH-2.0-OpenSSH_9.2p1\r\n")
	port := ln.Addr().(*net.TCPAddr).Port
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) { cfg.Scan.TCPPorts, cfg.Scan.LoopbackLab = fmt.Sprint(port), true }})
	admin := e.login("admin", adminPW)
	if r := admin.get("/"); !strings.Contains(r.body, "まだ実施されていません") {
		t.Fatal("the dashboard does not say no scan ran")
	}
	if r := admin.post("/scan/register", pointForm("CAF00001", scanEdge)); r.code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	if r := admin.post("/scan/run", url.Values{}); r.code != http.StatusSeeOther || r.location != "/scan?done=scan" {
		t.Fatalf("scan now: %d %s", r.code, r.location)
	}
	var scans []ledger.Entry
	for deadline := time.Now().Add(60 * time.Second); len(scans) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scan did not end")
		}
		scans = e.entries(ledger.KindScan)
	}
	d, err := ledger.Decode[ledger.ScanData](scans[0])
	if err != nil || scans[0].Actor != "admin" || !d.Error.IsZero() || d.OpenPorts != 1 {
		t.Fatalf("scan entry: %+v %+v %v", scans[0], d, err)
	}

	page := admin.get("/scan").body
	if !strings.Contains(page, `<table id="report">`) || !strings.Contains(page, `<tr data-point="CAF00001"><td>1</td><td>CAF00001</td><td>Example Edge 60</td><td>`+scanEdge+`</td>`) ||
		!strings.Contains(page, "初回の調査です") || !strings.Contains(page, fmt.Sprintf("%d/tcp", port)) {
		t.Fatalf("the page does not show the report:\n%s", page)
	}
	if en := admin.get("/scan?lang=en").body; !strings.Contains(en, scanEdge+" answers on: ") || !strings.Contains(en, "First scan") {
		t.Fatal("the English page does not show the English findings")
	}
	admin.get("/scan?lang=ja")
	if dash := admin.get("/").body; !strings.Contains(dash, "注意 0 件(前回から新たに 0 件)") {
		t.Fatal("the dashboard does not show the scan's count")
	}
	if m := admin.get("/metrics").body; !strings.Contains(m, "danzen_scan_cautions 0\n") || !strings.Contains(m, "danzen_last_scan_ok 1\n") {
		t.Fatalf("metrics:\n%s", m)
	}

	// Each download format of the report, for the auditor too.
	aud := e.addUser("auditor1", auth.RoleAuditor)
	for ext, want := range map[string]string{"html": "<td>CAF00001</td>", "csv": "\ufeffNo,ID,接続機器,IPアドレス,注目情報,調査結果", "json": `"id": "CAF00001"`} {
		r := aud.get("/scan/reports/" + d.Report + "." + ext)
		if r.code != http.StatusOK || !strings.Contains(r.body, want) || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s download: %d %q", ext, r.code, r.body)
		}
		if ext == "json" {
			var rep netprobe.Report
			if err := json.Unmarshal([]byte(r.body), &rep); err != nil || rep.Targets[0].Hosts[0].Addr != scanEdge {
				t.Errorf("JSON report: %v", err)
			}
		}
	}
	// A second scan compares with the first.
	if r := admin.post("/scan/run", url.Values{"anyway": {"on"}}); r.code != http.StatusSeeOther {
		t.Fatalf("second scan: %d", r.code)
	}
	for deadline := time.Now().Add(60 * time.Second); len(e.entries(ledger.KindScan)) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second scan did not end")
		}
	}
	if page := admin.get("/scan").body; !strings.Contains(page, "前回の調査からの変化") || !strings.Contains(page, "変化はありません") || strings.Count(page, `<tr data-report=`) != 2 {
		t.Fatalf("the page does not show the second report's changes:\n%s", page)
	}
	for _, p := range []string{"/scan/reports/..%2Fconfig.json", "/scan/reports/..%2F..%2Fconfig.json", "/scan/reports/%2e%2e%2fregister.json",
		"/scan/reports/" + d.Report + ".exe", "/scan/reports/" + d.Report, "/scan/reports/scan-" + d.Report + ".json.json", "/scan/reports/x.html"} {
		if r := aud.get(p); r.code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.code)
		}
	}
}

func TestScanFeedUpload(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("admin", adminPW)
	emb := kev.Embedded()
	if body := admin.get("/scan").body; !strings.Contains(body, `<strong id="feed-date">`+emb.Date+`</strong>`) {
		t.Fatal("the page does not show the embedded feed's date")
	}
	feed := func(date string) []byte {
		f := *emb
		f.Date = date
		b, _ := json.Marshal(f)
		return b
	}
	broken := feed("2099-01-01")
	broken = bytes.Replace(broken, []byte(`"CVE-`), []byte(`"CVX-`), 1)
	for name, data := range map[string][]byte{"garbage": []byte("not json"), "older": feed("2020-01-01"), "bad CVE": broken} {
		r := admin.upload("/scan/feed", "feed", "feed.json", data)
		if r.code != http.StatusOK || !strings.Contains(r.body, "脆弱性フィードを更新できません") {
			t.Errorf("%s feed: %d %s", name, r.code, r.body)
		}
	}
	if f, _ := e.g.ScanFeed(); f.Date != emb.Date {
		t.Fatalf("a refused feed is in use: %s", f.Date)
	}
	if r := admin.upload("/scan/feed", "feed", "feed.json", feed("2099-01-01")); r.code != http.StatusSeeOther {
		t.Fatalf("newer feed: %d %s", r.code, r.body)
	}
	if body := admin.get("/scan").body; !strings.Contains(body, `<strong id="feed-date">2099-01-01</strong>`) {
		t.Fatal("the page does not show the uploaded feed's date")
	}
	// Not older than the one in use, even if newer than the embedded one.
	if r := admin.upload("/scan/feed", "feed", "feed.json", feed("2098-01-01")); !strings.Contains(r.body, "使用中の版") {
		t.Fatalf("feed older than the one in use: %d %s", r.code, r.body)
	}
	entries := e.entries(ledger.KindFeedChange)
	if len(entries) != 1 || entries[0].Actor != "admin" || !strings.Contains(string(entries[0].Data), `"date":"2099-01-01"`) {
		t.Fatalf("feed entries: %+v", entries)
	}
}
