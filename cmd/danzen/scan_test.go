package main_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cp932 "golang.org/x/text/encoding/japanese"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
)

// registerCSV is a register as the 回線・機器情報記入シート exports it
// (BOM, Japanese header, every column), so an export must give it back
// byte for byte. Its one point is a real sshd on 127.0.0.1; the global
// IP is from the documentation range and is never scanned: the point's
// only scanned address would be a WAN one, so it is left empty.
const registerCSV = "\ufeffID,用途・システム名,電子カルテネットワーク接続,脆弱性診断,通信形態,回線事業者,回線品目,プロバイダ名,プロバイダ品目,回線終端装置設置場所,グローバルIPアドレス,固定IP/動的IP,FQDN,メーカー,機種名,ソフトウェアバージョン,LAN側管理アドレス,備考\n" +
	"CAF00001,保守用リモート接続,あり,あり,インターネットVPN,試験通信,光回線,試験プロバイダ,固定IP1,サーバ室ラック2,,固定IP,vpn.example.jp,Example,Edge 60,7.2.5,127.0.0.1,試験用の sshd\n"

// TestScanCommand runs `danzen scan` through the gateway against a real
// OpenSSH sshd on 127.0.0.1 (and a closed port): the report names the
// SSH service, each run leaves one ledger entry by "cli" and one stored
// report, a ledger held by another process (danzend) makes it fail with
// a clear message, and the register's CSV round-trips.
func TestScanCommand(t *testing.T) {
	srv := sshdtest.Run(t, sshdtest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	ports := fmt.Sprintf("%d,%d", min(srv.Port, closed), max(srv.Port, closed)) // as the report writes them

	bin := build(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.Scan.TCPPorts = "1-1024" // replaced by --ports: nothing below 1024 is ever touched
	cfg.Scan.LoopbackLab = true  // the sshd is on loopback
	cfgPath := filepath.Join(dir, "config.json")
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "points.csv")
	if err := os.WriteFile(in, []byte(registerCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, bin, "scan", "--config", cfgPath, "--import-csv", in); code != 0 || !strings.Contains(out, "1 connection points saved") {
		t.Fatalf("import exited %d:\n%s", code, out)
	}
	exp := filepath.Join(dir, "export.csv")
	if out, code := run(t, bin, "scan", "--config", cfgPath, "--export-csv", exp); code != 0 {
		t.Fatalf("export exited %d:\n%s", code, out)
	}
	if got, _ := os.ReadFile(exp); string(got) != registerCSV {
		t.Fatalf("the export differs from the import:\n%s\nwant:\n%s", got, registerCSV)
	}
	if _, err := os.Stat(filepath.Join(dir, "register.json")); err != nil {
		t.Fatalf("the register is not beside the configuration: %v", err)
	}
	// On request, as Excel on Japanese Windows writes CSV: CP932 without a
	// byte order mark.
	sjis := filepath.Join(dir, "export-sjis.csv")
	if out, code := run(t, bin, "scan", "--config", cfgPath, "--export-csv", sjis, "--csv-encoding", "cp932"); code != 0 {
		t.Fatalf("CP932 export exited %d:\n%s", code, out)
	}
	want, err := cp932.ShiftJIS.NewEncoder().String(strings.TrimPrefix(registerCSV, "\ufeff"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(sjis); string(got) != want {
		t.Fatalf("the CP932 export is not the register in CP932:\n%q\nwant:\n%q", got, want)
	}
	_, scansDir := netprobe.Files(cfgPath, cfg.Scan)

	// scanned checks what the n-th run left: n ledger entries by cli,
	// the last naming a stored report with the sshd's port open.
	scanned := func(n int) {
		t.Helper()
		es, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindScan}})
		if err != nil || len(es) != n {
			t.Fatalf("%d scan entries in the ledger, want %d (%v)", len(es), n, err)
		}
		d, err := ledger.Decode[ledger.ScanData](es[n-1])
		if err != nil || es[n-1].Actor != "cli" || !d.Error.IsZero() || d.Addresses != 1 || d.OpenPorts != 1 || d.Report == "" {
			t.Fatalf("scan entry %d: %+v %+v %v", n, es[n-1], d, err)
		}
		if _, err := os.Stat(filepath.Join(scansDir, "scan-"+d.Report+".json")); err != nil {
			t.Fatalf("the ledger names a report that is not stored: %v", err)
		}
		if names, _ := filepath.Glob(filepath.Join(scansDir, "scan-*.json")); len(names) != n {
			t.Fatalf("%d stored reports, want %d", len(names), n)
		}
	}

	out, code := run(t, bin, "scan", "--config", cfgPath, "--ports", ports, "--format", "json")
	if code != 0 {
		t.Fatalf("scan --format json exited %d:\n%s", code, out)
	}
	js, _, _ := strings.Cut(out, "保存先: ") // stderr's last line follows the report
	var rep netprobe.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, out)
	}
	if rep.TCPPorts != ports || len(rep.Targets) != 1 || len(rep.Targets[0].Hosts) != 1 {
		t.Fatalf("report: ports %q, targets %+v", rep.TCPPorts, rep.Targets)
	}
	h := rep.Targets[0].Hosts[0]
	if h.Addr != "127.0.0.1" || len(h.Ports) != 1 || h.Ports[0].Port != srv.Port || h.Ports[0].Service.Name != "ssh" || !strings.HasPrefix(h.Ports[0].Service.Banner, "SSH-2.0-OpenSSH_") {
		t.Fatalf("host: %+v", h)
	}
	scanned(1)

	out, code = run(t, bin, "scan", "--config", cfgPath, "--ports", ports, "--format", "csv")
	if code != 0 {
		t.Fatalf("scan --format csv exited %d:\n%s", code, out)
	}
	report, _, _ := strings.Cut(out, "保存先: ")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(report, "\ufeff"))).ReadAll()
	if err != nil || len(rows) < 2 || rows[1][1] != "CAF00001" || rows[1][3] != "127.0.0.1" {
		t.Fatalf("CSV report (%v):\n%s", err, out)
	}
	if line := strings.Join(rows[1], " "); !strings.Contains(line, fmt.Sprintf("%d/tcp", srv.Port)) || !strings.Contains(line, "OpenSSH") {
		t.Fatalf("the CSV row does not name the sshd:\n%s", line)
	}
	scanned(2)

	// danzend holds the ledger: the CLI says so and scans nothing.
	held, err := ledger.Open(cfg.LedgerDir)
	if err != nil {
		t.Fatal(err)
	}
	out, code = run(t, bin, "scan", "--config", cfgPath, "--ports", ports)
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(out, "in use by another process") || !strings.Contains(out, "別のプロセスが使用中") || !strings.Contains(out, "Scan now") {
		t.Fatalf("scan beside a held ledger exited %d:\n%s", code, out)
	}
	scanned(2)

	for _, bad := range [][]string{{"--format", "xml"}, {"--ports", "22-"}, {"--frobnicate"}} {
		out, code := run(t, bin, append([]string{"scan", "--config", cfgPath}, bad...)...)
		if code != 2 || !strings.Contains(out, strings.TrimLeft(bad[0], "-")) {
			t.Errorf("scan %v exited %d, want 2 naming the flag:\n%s", bad, code, out)
		}
	}
	scanned(2)
}
