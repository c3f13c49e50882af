package netprobe

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

func TestParsePorts(t *testing.T) {
	got, err := config.ParsePorts("3389, 20-22,22,443")
	if err != nil || !slices.Equal(got, []int{20, 21, 22, 443, 3389}) {
		t.Fatalf("%v %v", got, err)
	}
	if all, _ := config.ParsePorts(""); len(all) != 65535 || portSpec(all) != "1-65535" {
		t.Fatal("default is not all ports")
	}
	if portSpec(got) != "20-22,443,3389" {
		t.Fatal(portSpec(got))
	}
	for _, bad := range []string{"0", "70000", "5-1", "x", "1-"} {
		if _, err := config.ParsePorts(bad); err == nil || !strings.Contains(err.Error(), " / ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// loopback listens on a 127.x address of its own, so the test's ports are
// known whatever else runs on 127.0.0.1.
func loopback(t *testing.T) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 77, byte(time.Now().UnixNano() >> 8), 1})
}

func TestScanTCPLoopback(t *testing.T) {
	addr := loopback(t)
	var open []int
	for range 3 {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		if err != nil {
			t.Fatal(err)
		}
		closeLater(t, ln)
		open = append(open, ln.Addr().(*net.TCPAddr).Port)
	}
	closed := closedPort(t, addr)
	o := DefaultOptions()
	ports := append([]int{closed}, open...)
	for p := 1; p <= 2000; p++ {
		ports = append(ports, p)
	}
	res := scanTCP(context.Background(), addr, ports, nil, &o, rate.NewLimiter(rate.Inf, 1))
	for _, p := range open {
		if !slices.Contains(res.open, p) {
			t.Errorf("listening port %d not found (open %v)", p, res.open)
		}
	}
	if slices.Contains(res.open, closed) || res.unreachable || res.filtered != 0 {
		t.Errorf("closed port %d: %+v", closed, res)
	}
}

// A web server that answers 200 to every path is not an SSL-VPN portal.
// closeLater closes c when the test ends; a failure to is reported, as
// teardown, without stopping the test.
func closeLater(t testing.TB, c io.Closer) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Error(err)
		}
	})
}

// closedPort is a port of addr that nothing listens on: one the system
// handed out and that was closed again.
func closedPort(t testing.TB, addr netip.Addr) int {
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestIdentifyCatchAllIsNoPortal(t *testing.T) {
	addr := loopback(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "lighttpd/1.4")
		_, _ = io.WriteString(w, "<title>Welcome</title>ok") // a probe that hangs up is the probe's business
	})}
	go func() { _ = srv.Serve(ln) }() // ends when srv is closed
	closeLater(t, srv)
	o := DefaultOptions()
	o.BannerWait = 300 * time.Millisecond
	p := identify(context.Background(), addr, ln.Addr().(*net.TCPAddr).Port, &o)
	if p.Service.Name != "http" || p.HTTP == nil || p.HTTP.Portal != "" || p.HTTP.Server != "lighttpd/1.4" || p.HTTP.Title != "Welcome" || p.HTTP.Login {
		t.Fatalf("%+v %+v", p, p.HTTP)
	}
}

func sampleReport(open ...int) *Report {
	h := Host{Addr: "192.0.2.1"}
	for _, p := range open {
		h.Ports = append(h.Ports, Port{Proto: "tcp", Port: p, Service: Service{Name: "x"}})
	}
	r := &Report{Started: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), FeedDate: "2025-07-10", TCPPorts: "1-65535",
		Targets: []Target{
			{No: 1, Point: register.Point{ID: "CAF00001", Maker: "Fortinet", Model: "FortiGate 60F", Firmware: "7.2.5 build1517", LANAddress: "192.0.2.1", Scan: true}, Hosts: []Host{h}},
			{No: 2, Point: register.Point{ID: "CAF00002", Maker: "A社", Model: "Router-01 <b>"}},
		}}
	return r
}

// kevFindings lists the known_exploited findings of t as "CVE where":
// the address whose portal announced the version, or "register".
func kevFindings(t Target) []string {
	var out []string
	for _, f := range t.Findings {
		if f.Rule == RuleKEV {
			out = append(out, f.CVE+" "+cmp.Or(f.Addr, "register"))
		}
	}
	slices.Sort(out)
	return out
}

// sampleKEV is what the feed says of sampleReport's FortiOS 7.2.5: listed
// in full, so that a feed entry added for it fails here until it is
// written down (FG-IR-24-015 and FG-IR-24-029 7.2.0–7.2.6; FG-IR-25-647
// 7.2.0–7.2.11; FG-IR-23-097 ended at 7.2.4).
var sampleKEV = []string{"CVE-2024-21762 register", "CVE-2024-23113 register", "CVE-2025-59718 register"}

func TestJudgeAndDiff(t *testing.T) {
	prev := sampleReport(443)
	prev.judge(&testFeed, nil)
	r := sampleReport(443, 3389)
	r.judge(&testFeed, prev)
	rules := map[string]int{}
	for _, f := range r.Targets[0].Findings {
		rules[f.Rule]++
	}
	if got := kevFindings(r.Targets[0]); !slices.Equal(got, sampleKEV) {
		t.Fatalf("known exploited %q, want %q", got, sampleKEV)
	}
	if rules[RuleRemote] != 1 || rules[RuleNewlyOpen] != 1 || !r.Targets[0].Findings[0].Caution {
		t.Fatalf("findings %+v", r.Targets[0].Findings)
	}
	d := r.Changes
	if d == nil || !slices.Equal(d.Opened, []string{"CAF00001 192.0.2.1 3389/tcp"}) || len(d.NewCautions) != 2 || len(d.Resolved) != 0 {
		t.Fatalf("diff %+v", d)
	}
	if back := prev.Diff(r); !slices.Equal(back.Closed, []string{"CAF00001 192.0.2.1 3389/tcp"}) || len(back.Resolved) != 2 {
		t.Fatalf("reverse diff %+v", back)
	}
	if r.Cautions() != prev.Cautions()+2 {
		t.Fatalf("cautions %d %d", r.Cautions(), prev.Cautions())
	}
}

// A scan that could not look at an address (unreachable, or refused) says
// nothing about its ports: nothing closed, no 注意 resolved. The findings
// of the address it did look at still resolve.
func TestDiffHoldsWhatWasNotChecked(t *testing.T) {
	prev := sampleReport(443, 3389)
	prev.judge(&testFeed, nil)
	for name, h := range map[string]Host{
		"unreachable": {Addr: "192.0.2.1", Unreachable: true},
		"not scanned": {Addr: "192.0.2.1", NotScanned: msg.T("未確認", "not confirmed")},
	} {
		r := sampleReport()
		r.Targets[0].Hosts = []Host{h}
		r.judge(&testFeed, prev)
		if d := r.Changes; len(d.Closed) != 0 || slices.ContainsFunc(d.Resolved, func(n Noted) bool { return n.Addr == "192.0.2.1" }) {
			t.Errorf("%s: diff %+v; want nothing closed or resolved at 192.0.2.1", name, d)
		}
	}
	r := sampleReport(443)
	r.judge(&testFeed, prev)
	if d := r.Changes; !slices.Equal(d.Closed, []string{"CAF00001 192.0.2.1 3389/tcp"}) || len(d.Resolved) == 0 {
		t.Errorf("checked: diff %+v; want 3389 closed and its 注意 resolved", d)
	}
}

// A version the feed cannot read is said in each language whole: the
// comparator's own complaint included, in the same language.
func TestUncheckableVersionInOneLanguage(t *testing.T) {
	r := sampleReport()
	r.Targets[0].Point.Firmware = "seven"
	r.judge(&testFeed, nil)
	var f *Finding
	for i, g := range r.Targets[0].Findings {
		if strings.Contains(g.EN, "cannot be checked") {
			f = &r.Targets[0].Findings[i]
		}
	}
	if f == nil {
		t.Fatalf("no finding for the uncheckable version: %+v", r.Targets[0].Findings)
	}
	if want := `台帳の版 seven を脆弱性情報と照合できません: 版 "seven" は fortinet の形式（例: 7.2.5 build1517）ではありません`; f.JA != want {
		t.Errorf("JA %q, want %q", f.JA, want)
	}
	if want := `the register's version seven cannot be checked against the feed: version "seven" is not in fortinet form (e.g. 7.2.5 build1517)`; f.EN != want {
		t.Errorf("EN %q, want %q", f.EN, want)
	}
}

func TestOutputs(t *testing.T) {
	r := sampleReport(3389)
	r.judge(&testFeed, nil)
	var csvOut, html, js bytes.Buffer
	if err := r.WriteCSV(&csvOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csvOut.String(), "\ufeffNo,ID,接続機器,IPアドレス,注目情報,調査結果,Findings (English)\n1,CAF00001,Fortinet FortiGate 60F,192.0.2.1,注意,") ||
		!strings.Contains(csvOut.String(), "2,CAF00002,A社 Router-01 <b>,調査不可 (IPアドレス不明),-,") {
		t.Fatalf("csv:\n%s", csvOut.String())
	}
	if err := r.WriteHTML(&html, when.Of("Asia/Tokyo")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"外部ネットワーク接続点 調査結果", "class=\"caution\">注意", "Router-01 &lt;b&gt;", "CVE-2024-21762", "2025-07-10",
		"ベンダ勧告: FG-IR-24-015", "vendor advisory: FG-IR-24-029"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if !strings.Contains(csvOut.String(), "ベンダ勧告: FG-IR-24-029") || !strings.Contains(csvOut.String(), "vendor advisory: FG-IR-24-015") {
		t.Errorf("csv lacks the advisories:\n%s", csvOut.String())
	}
	if err := r.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"rule": "known_exploited"`) ||
		!strings.Contains(js.String(), `"cve": "CVE-2024-23113",
          "advisory": "FG-IR-24-029",
          "checked": "confirmed"`) {
		t.Fatalf("json %v:\n%s", err, js.String())
	}
}

// TestKEVAdvisories checks what each known-exploited finding carries: the
// vendor advisory whichever claim raised it (the register's version or a
// portal's), the note on a range the feed could not fully confirm, and a
// key of its own, so that an entry added to the feed is a new 注意.
func TestKEVAdvisories(t *testing.T) {
	asa := VersionHint{Source: "/CSCOSSLC/config-auth", Raw: "9.16(4)48", Vendor: "cisco", Version: "9.16(4)48", Exact: true, Confidence: ConfidenceHigh}
	r := &Report{Targets: []Target{
		{No: 1, Point: register.Point{ID: "CAF00001", Maker: "Fortinet", Model: "FortiGate 60E", Firmware: "6.0.6", Scan: true}},
		{No: 2, Point: register.Point{ID: "CAF00002", Maker: "SonicWall", Model: "SMA 210", Firmware: "10.2.1.2-24sv", Scan: true}},
		{No: 3, Point: register.Point{ID: "CAF00003", Maker: "Cisco", Model: "ASA 5508-X", Firmware: "9.16(4)85", Scan: true, LANAddress: "10.0.0.1"},
			Hosts: []Host{{Addr: "10.0.0.1", Ports: []Port{{Proto: "tcp", Port: 443, Service: Service{Name: "https"},
				HTTP: &HTTPInfo{Status: 200, Portal: "Cisco ASA WebVPN", Vendor: "cisco", Hints: []VersionHint{asa}}}}}}},
	}}
	r.judge(&testFeed, nil)
	advisories := map[string]string{}
	for i, want := range [][]string{
		{"CVE-2019-5591 register", "CVE-2019-6693 register", "CVE-2020-12812 register", "CVE-2022-42475 register", "CVE-2023-27997 register", "CVE-2024-21762 register"},
		{"CVE-2021-20038 register", "CVE-2023-44221 register"}, // SMA 100 firmware through the sonicwall comparator (SNWLID-2023-0018: up to 10.2.1.9-57sv)
		// 9.16(4)85 is fixed; the portal's 9.16(4)48 is not.
		{"CVE-2024-20353 10.0.0.1", "CVE-2025-20333 10.0.0.1", "CVE-2025-20362 10.0.0.1"},
	} {
		if got := kevFindings(r.Targets[i]); !slices.Equal(got, want) {
			t.Errorf("%s: known exploited %q, want %q", r.Targets[i].Point.ID, got, want)
		}
		for _, f := range r.Targets[i].Findings {
			if f.Rule != RuleKEV {
				continue
			}
			advisories[f.CVE] = f.Advisory
			partial := f.CVE == "CVE-2019-6693" || f.CVE == "CVE-2021-20038" || f.CVE == "CVE-2023-44221"
			if f.Advisory == "" || !strings.Contains(f.JA, "ベンダ勧告: "+f.Advisory) || !strings.Contains(f.EN, "vendor advisory: "+f.Advisory) ||
				strings.Contains(f.JA, "（影響範囲は一部未確認）") != partial || strings.Contains(f.EN, "(affected range not fully confirmed)") != partial ||
				(f.Checked == kev.CheckedPartial) != partial {
				t.Errorf("%s: %+v", f.CVE, f)
			}
		}
	}
	for cve, want := range map[string]string{"CVE-2019-6693": "FG-IR-19-007", "CVE-2021-20038": "SNWLID-2021-0026",
		"CVE-2024-20353": "cisco-sa-asaftd-websrvs-dos-X8gNucD2", "CVE-2025-20333": "cisco-sa-asaftd-webvpn-z5xP8EUB"} {
		if advisories[cve] != want {
			t.Errorf("%s advisory %q, want %q", cve, advisories[cve], want)
		}
	}

	// The same device judged by a feed without CVE-2024-23113, then with it.
	older := testFeed
	older.Entries = slices.DeleteFunc(slices.Clone(testFeed.Entries), func(e kev.Entry) bool { return e.CVE == "CVE-2024-23113" })
	prev := sampleReport(443)
	prev.judge(&older, nil)
	now := sampleReport(443)
	now.judge(&testFeed, prev)
	if d := now.Changes; len(d.NewCautions) != 1 || d.NewCautions[0].CVE != "CVE-2024-23113" || len(d.Resolved) != 0 {
		t.Errorf("an entry added to the feed: %+v", d)
	}
	// A report stored before findings carried their CVE keys the same.
	f := now.Targets[0].Findings[0]
	if old := (Finding{Rule: f.Rule, Caution: true, Text: f.Text}); f.Rule != RuleKEV || old.Key("CAF00001") != f.Key("CAF00001") {
		t.Errorf("key of %+v", f)
	}
}

func TestStore(t *testing.T) {
	s := Store{Dir: t.TempDir() + "/scans"}
	if r, err := s.Latest(); r != nil || err != nil {
		t.Fatalf("empty store: %v %v", r, err)
	}
	a, b := sampleReport(22), sampleReport(22, 443)
	b.Started = a.Started.Add(time.Hour)
	for _, r := range []*Report{b, a} {
		if _, err := s.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Latest()
	if err != nil || !got.Started.Equal(b.Started) || len(got.Targets[0].Hosts[0].Ports) != 2 {
		t.Fatalf("latest: %v %+v", err, got)
	}
	if _, err := s.Load("../x.json"); err == nil {
		t.Fatal("path escape accepted")
	}
}

func TestFiles(t *testing.T) {
	reg, dir := Files("/perm/danzen/config.json", config.Scan{})
	if reg != "/perm/danzen/register.json" || dir != "/perm/danzen/scans" {
		t.Fatal(reg, dir)
	}
	reg, dir = Files("/perm/danzen/config.json", config.Scan{Register: "/etc/r.json", Dir: "s"})
	if reg != "/etc/r.json" || dir != "/perm/danzen/s" {
		t.Fatal(reg, dir)
	}
}

// TestRunStoresAndDiffs runs the whole scheduled path on loopback: the
// register file beside the configuration, the store, the diff with the
// previous report.
func TestRunStoresAndDiffs(t *testing.T) {
	dir := t.TempDir()
	addr := loopback(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, ln)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// A greeting the scanner does not wait for is no failure.
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2p1\r\n"))
			_ = c.Close()
		}
	}()
	p1, p2 := ln.Addr().(*net.TCPAddr).Port, closedPort(t, addr)
	reg := register.Register{Points: []register.Point{{ID: "CAF00001", Purpose: "保守", Scan: true, LineType: register.LineClosed, LANAddress: addr.String()}}}
	if err := register.Save(dir+"/register.json", reg); err != nil {
		t.Fatal(err)
	}
	s := config.Scan{TCPPorts: fmt.Sprintf("%d,%d", p1, p2), LoopbackLab: true} // the fake device is on loopback
	r1, name1, err := Run(context.Background(), nil, dir+"/config.json", s)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Changes != nil || len(r1.Targets[0].Hosts[0].Ports) != 1 || r1.Targets[0].Hosts[0].Ports[0].Service.Name != "ssh" {
		t.Fatalf("first scan: %+v", r1.Targets[0].Hosts)
	}
	second, err := net.Listen("tcp", netip.AddrPortFrom(addr, uint16(p2)).String())
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, second)
	r2, name2, err := Run(context.Background(), nil, dir+"/config.json", s)
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := (Store{Dir: dir + "/scans"}).List(); !slices.Equal(names, []string{name1, name2}) {
		t.Fatalf("stored %v, want %s then %s", names, name1, name2)
	}
	want := fmt.Sprintf("CAF00001 %s %d/tcp", addr, p2)
	if r2.Changes == nil || !slices.Equal(r2.Changes.Opened, []string{want}) || len(r2.Changes.NewCautions) != 1 || r2.Changes.NewCautions[0].Rule != RuleNewlyOpen {
		t.Fatalf("second scan changes: %+v", r2.Changes)
	}
}

func TestAlerts(t *testing.T) {
	first := sampleReport(443)
	first.judge(&testFeed, nil)
	a := first.Alerts("gw1")
	var got []string
	for _, x := range a {
		if !strings.Contains(x.Title.JA, "CAF00001 Fortinet FortiGate 60F") {
			t.Errorf("alert title %q", x.Title.JA)
		}
		got = append(got, cveID.FindString(x.Body.JA)+" register")
	}
	if slices.Sort(got); !slices.Equal(got, sampleKEV) {
		t.Fatalf("first scan alerts %q, want one per %q: %+v", got, sampleKEV, a)
	}
	again := sampleReport(443)
	again.judge(&testFeed, first)
	if a := again.Alerts("gw1"); len(a) != 0 {
		t.Fatalf("unchanged scan alerts again: %+v", a)
	}
	more := sampleReport(443, 23)
	more.judge(&testFeed, again)
	if a := more.Alerts("gw1"); len(a) != 2 { // Telnet reachable, newly open
		t.Fatalf("alerts: %+v", a)
	}
}

func TestScanProgress(t *testing.T) {
	addr := loopback(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, ln)
	reg := register.Register{Points: []register.Point{{ID: "CAF00001", Purpose: "x", Scan: true, LineType: register.LineClosed, LANAddress: addr.String()}}}
	o := DefaultOptions()
	o.TCPPorts = []int{ln.Addr().(*net.TCPAddr).Port}
	o.BannerWait = 200 * time.Millisecond
	var mu sync.Mutex
	var phases []string
	o.Progress = func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		phases = append(phases, fmt.Sprintf("%s %s %s %d", p.ID, p.Addr, p.Phase, p.Open))
	}
	if _, err := Scan(context.Background(), reg, o); err != nil {
		t.Fatal(err)
	}
	a := addr.String()
	if want := []string{"CAF00001 " + a + " tcp 0", "CAF00001 " + a + " identify 1", "CAF00001 " + a + " done 1"}; !slices.Equal(phases, want) {
		t.Fatalf("progress %q, want %q", phases, want)
	}
}
