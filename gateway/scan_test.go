package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// edgeAddr is the fake edge device's LAN-side address: on loopback, as
// every address the tests touch.
const edgeAddr = "127.77.9.1"

// scanWorld is a gateway with a one-point register at edgeAddr, an SSH
// banner on one port, a second port closed for now, and the hospital's
// alert webhook on 127.0.0.1.
type scanWorld struct {
	cfg       *config.Config
	g         *gateway.Gateway
	open, gap int // the listening port, the closed one
	mu        sync.Mutex
	alerts    []alert.Alert
}

func newScanWorld(t *testing.T, edit func(*config.Config)) *scanWorld {
	t.Helper()
	w := &scanWorld{}
	ln := listen(t, 0)
	fakeedge.Greet(ln, "SSH-2.0-OpenSSH_9.2p1\r\n")
	gap := listen(t, 0)
	w.open, w.gap = ln.Addr().(*net.TCPAddr).Port, gap.Addr().(*net.TCPAddr).Port
	if err := gap.Close(); err != nil { // a port nothing answers on
		t.Fatal(err)
	}
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		var a alert.Alert
		if err := json.NewDecoder(req.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		w.mu.Lock()
		w.alerts = append(w.alerts, a)
		w.mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: hook.URL}
	cfg.Scan.TCPPorts = fmt.Sprintf("%d,%d", w.open, w.gap)
	cfg.Scan.LoopbackLab = true // the fake edge is on loopback
	if edit != nil {
		edit(cfg)
	}
	g, err := gateway.Open(context.Background(), cfg, gateway.Options{ConfigPath: filepath.Join(dir, "config.json")})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	w.cfg, w.g = cfg, g
	err = g.UpdateRegister(context.Background(), "vendor", "add", func(r *register.Register) error {
		r.Points = append(r.Points, register.Point{ID: "CAF00001", Purpose: "保守回線", Scan: true, LineType: register.LineClosed,
			Maker: "Example", Model: "Router", LANAddress: edgeAddr})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func listen(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(edgeAddr, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // may be closed already (the gap port)
	return ln
}

func (w *scanWorld) scanAlerts() []alert.Alert {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []alert.Alert
	for _, a := range w.alerts {
		if a.Kind == alert.KindScanFinding {
			out = append(out, a)
		}
	}
	return out
}

func scanEntries(t *testing.T, cfg *config.Config) []ledger.ScanData {
	t.Helper()
	entries, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindScan}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.ScanData
	for _, e := range entries {
		d, err := ledger.Decode[ledger.ScanData](e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestScanRecordsStoresAndAlertsNewCautions(t *testing.T) {
	w := newScanWorld(t, nil)
	ctx := ctxT(t)
	changes, _ := ledger.Read(w.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindRegisterChange}})
	if len(changes) != 1 || changes[0].Actor != "vendor" {
		t.Fatalf("register change entries: %+v", changes)
	}

	r1, err := w.g.Scan(ctx, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	// Only the register's address was scanned.
	if len(r1.Targets) != 1 || len(r1.Targets[0].Hosts) != 1 || r1.Targets[0].Hosts[0].Addr != edgeAddr {
		t.Fatalf("first scan hosts: %+v", r1.Targets)
	}
	if n := r1.Cautions(); n != 0 {
		t.Fatalf("first scan: %d cautions, want 0: %+v", n, r1.Targets[0].Findings)
	}

	listen(t, w.gap) // a port that was closed opens: a new 注意
	r2, err := w.g.Scan(ctx, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if r2.Cautions() != 1 || len(r2.NewCautions()) != 1 || r2.NewCautions()[0].Rule != netprobe.RuleNewlyOpen {
		t.Fatalf("second scan: %+v", r2.Changes)
	}
	got := scanEntries(t, w.cfg)
	if len(got) != 2 {
		t.Fatalf("%d scan entries, want 2", len(got))
	}
	last := got[1]
	if last.Report == "" || last.Targets != 1 || last.Addresses != 1 || last.OpenPorts != 2 || last.Cautions != 1 || last.NewCautions != 1 || !last.Error.IsZero() || last.Anyway {
		t.Fatalf("scan entry: %+v", last)
	}
	st, err := w.g.Status(ctx)
	if err != nil || st.LastScan == nil || st.LastScan.Report != last.Report || st.LastScan.NewCautions != 1 {
		t.Fatalf("status last scan: %+v %v", st.LastScan, err)
	}

	list, err := w.g.ScanReports()
	if err != nil || len(list) != 2 || list[0].ID != last.Report || list[0].Cautions != 1 || list[1].Cautions != 0 {
		t.Fatalf("reports: %+v %v", list, err)
	}
	if rep, err := w.g.ScanReport(last.Report); err != nil || rep.Cautions() != 1 {
		t.Fatalf("report %s: %v", last.Report, err)
	}
	for _, bad := range []string{"../config", "../../ledger/ledger", "", last.Report + "/..", "x"} {
		if _, err := w.g.ScanReport(bad); !errors.Is(err, gateway.ErrScanNotFound) {
			t.Errorf("report %q: %v, want not found", bad, err)
		}
	}

	// The new 注意 went to the hospital's webhook, once.
	deadline := time.Now().Add(30 * time.Second)
	for len(w.scanAlerts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	a := w.scanAlerts()
	if len(a) != 1 || a[0].Severity != alert.SeverityWarning {
		t.Fatalf("scan alerts: %+v", a)
	}
	if _, err := w.g.Scan(ctx, "vendor"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if a := w.scanAlerts(); len(a) != 1 {
		t.Fatalf("an unchanged finding was alerted again: %+v", a)
	}
}

// hangingSource is an e-chart server that accepts and never answers, so a
// cycle holds the gateway in its pull until its context ends.
func hangingSource(t *testing.T, cfg *config.Config) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn // held open, silent
	t.Cleanup(func() {
		// Tearing down a silent peer: what closing says is of no interest.
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.SecretsDir, "pull.key"), pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	hostPub, _, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := ssh.NewPublicKey(hostPub)
	s := config.DefaultSource()
	s.Name, s.Host, s.Port, s.User, s.KeyFile, s.ExportDir = "emr", "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, "danzen", "pull.key", "/export"
	s.KnownHosts = []string{fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, string(ssh.MarshalAuthorizedKey(pub)))}
	cfg.Sources = []config.Source{s}
}

func TestScanWaitsForTheCycleUnlessAskedAnyway(t *testing.T) {
	w := newScanWorld(t, func(cfg *config.Config) { hangingSource(t, cfg) })
	cycleCtx, stopCycle := context.WithCancel(ctxT(t))
	cycleDone := make(chan error, 1)
	go func() {
		_, err := w.g.RunCycle(cycleCtx, nil)
		cycleDone <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if running, _ := w.g.Running(); running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cycle did not start")
		}
	}
	if err := w.g.StartScan(ctxT(t), "vendor", false); !errors.Is(err, gateway.ErrBusy) {
		t.Fatalf("scan during a cycle: %v, want ErrBusy", err)
	}
	if n := len(scanEntries(t, w.cfg)); n != 0 {
		t.Fatalf("a refused scan recorded %d entries", n)
	}
	if err := w.g.StartScan(ctxT(t), "vendor", true); err != nil {
		t.Fatalf("scan anyway: %v", err)
	}
	var got []ledger.ScanData
	for deadline := time.Now().Add(30 * time.Second); len(got) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scan asked for anyway did not run")
		}
		got = scanEntries(t, w.cfg)
	}
	if !got[0].Anyway || !got[0].Error.IsZero() || got[0].Report == "" {
		t.Fatalf("scan anyway entry: %+v", got[0])
	}
	if running, _ := w.g.Running(); !running {
		t.Fatal("the cycle ended before the scan: the test proved nothing")
	}
	// The scheduled scan waits for the cycle to end.
	scanned := make(chan error, 1)
	go func() {
		_, err := w.g.Scan(ctxT(t), ledger.ActorSystem)
		scanned <- err
	}()
	time.Sleep(300 * time.Millisecond)
	stopCycle()
	if err := <-cycleDone; err == nil {
		t.Fatal("the hanging cycle succeeded")
	}
	if err := <-scanned; err != nil {
		t.Fatal(err)
	}
	ends, _ := ledger.Read(w.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCycleEnd}})
	got = scanEntries(t, w.cfg)
	if len(ends) != 1 || len(got) != 2 || !got[1].Started.After(ends[0].Time) || got[1].Anyway {
		t.Fatalf("the scheduled scan did not wait for the cycle: cycle ended %v, scan %+v", ends, got)
	}
}

func TestScanScheduleRunsTheScan(t *testing.T) {
	w := newScanWorld(t, func(cfg *config.Config) { cfg.Scan.Schedule = "daily 12:30" })
	jst := time.FixedZone("JST", 9*3600)
	ctx, cancel := context.WithCancel(ctxT(t))
	clock := &stepClock{done: cancel, times: []time.Time{
		time.Date(2027, 4, 1, 11, 0, 0, 0, jst),
		time.Date(2027, 4, 1, 12, 30, 0, 0, jst), // due
		time.Date(2027, 4, 1, 12, 35, 0, 0, jst),
	}}
	if err := w.g.RunScanSchedule(ctx, clock); err != context.Canceled {
		t.Fatal(err)
	}
	entries, err := ledger.Read(w.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindScan}})
	if err != nil || len(entries) != 1 || entries[0].Actor != ledger.ActorSystem {
		t.Fatalf("scheduled scans: %+v %v", entries, err)
	}
	if d := scanEntries(t, w.cfg); !d[0].Error.IsZero() || d[0].Report == "" {
		t.Fatalf("scheduled scan: %+v", d[0])
	}
}

// An address no line's device can have is refused when the register is
// saved, naming the field, and nothing is saved or recorded.
func TestRegisterRefusesNonDeviceAddressesAtEntry(t *testing.T) {
	w := newScanWorld(t, nil)
	err := w.g.UpdateRegister(context.Background(), "vendor", "add", func(r *register.Register) error {
		r.Points = append(r.Points, register.Point{ID: "CAF00002", Purpose: "VPN", Scan: true, LineType: register.LineInternet,
			LANAddress: "192.168.1.1", GlobalIP: "169.254.7.7"})
		return nil
	})
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "points[1].global_ip" ||
		!strings.Contains(ve.Fields[0].Text.JA, "CAF00002: 169.254.7.7 はリンクローカルアドレス") {
		t.Fatalf("UpdateRegister = %v; want the link-local global IP refused by its field", err)
	}
	reg, err := w.g.Register()
	if err != nil || len(reg.Points) != 1 {
		t.Fatalf("register after the refusal: %d points, %v; want the 1 saved before", len(reg.Points), err)
	}
}
