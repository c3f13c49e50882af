package faults_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// alerts is the hospital's webhook on loopback: what the gateway told
// the staff.
type alerts struct {
	mu  sync.Mutex
	got []map[string]any
}

// hook points cfg's alerts at a new collector.
func hook(t *testing.T, cfg *config.Config) *alerts {
	t.Helper()
	a := &alerts{}
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		a.mu.Lock()
		a.got = append(a.got, m)
		a.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	cfg.Alerts.Webhook = &alert.WebhookSpec{URL: srv.URL}
	return a
}

// reset forgets what was received, for the next fault.
func (a *alerts) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = nil
}

// firing returns the unresolved alerts of kind received since the last
// reset (the gateway's Close waits for deliveries in flight).
func (a *alerts) firing(kind string) []map[string]any { return a.of(kind, false) }

// of returns the alerts of kind received since the last reset, the
// notices that the condition cleared if resolved.
func (a *alerts) of(kind string, resolved bool) []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []map[string]any
	for _, m := range a.got {
		if m["kind"] == kind && (m["resolved"] == true) == resolved {
			out = append(out, m)
		}
	}
	return out
}

// scenario is an in-process gateway on a copy of the world's
// configuration, with the hospital's webhook.
type scenario struct {
	w      *world
	cfg    *config.Config
	alerts *alerts
}

// fault starts a row for a fault injected at at, with no alert received
// yet.
func (s *scenario) fault(name, at string) row {
	s.alerts.reset()
	return row{fault: name, reached: at}
}

func (w *world) scenario(t *testing.T) *scenario {
	t.Helper()
	cfg := *w.r.Cfg
	cfg.Sources = slices.Clone(cfg.Sources)
	return &scenario{w: w, cfg: &cfg, alerts: hook(t, &cfg)}
}

// cycle runs one cycle on a gateway opened for it and closed after it,
// so its alerts have gone out when it returns.
func (s *scenario) cycle(t *testing.T, events func(backup.CycleEvent)) (*backup.CycleReport, error) {
	t.Helper()
	g, err := gateway.Open(context.Background(), s.cfg, gateway.Options{RelaySources: s.w.sources(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer closeGateway(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return g.RunCycle(ctx, events)
}

// pullErrors returns the ledger's errors of the pull phase.
func pullErrors(t *testing.T, dir string) []ledger.Entry {
	t.Helper()
	ents, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindError}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Entry
	for _, e := range ents {
		if d, err := ledger.Decode[ledger.ErrorData](e); err == nil && d.Phase == "pull" {
			out = append(out, e)
		}
	}
	return out
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// dump is an export of about 90 MB whose content depends on v, so that
// every version is transferred anew.
func dump(v int) []byte {
	return []byte(strings.Repeat("INSERT INTO karte VALUES ("+strconv.Itoa(v)+", '山田 太郎', '2026-11-26');\n", 1_500_000))
}

// stagedAs checks that staging is complete and holds rel with want's
// SHA-256.
func stagedAs(staging, rel string, want []byte) error {
	if err := stagingComplete(staging, "emr"); err != nil {
		return err
	}
	m, err := pull.LoadManifest(staging, "emr")
	if err != nil {
		return err
	}
	for _, f := range m.Files {
		if f.Path == rel {
			if f.SHA256 != sum(want) {
				return fmt.Errorf("staging holds a %s other than the export's", rel)
			}
			return nil
		}
	}
	return fmt.Errorf("%s is not staged", rel)
}

// finish checks that staging holds want as rel, then finishes the row.
func (s *scenario) finish(t *testing.T, res *row, rel string, want []byte) {
	t.Helper()
	res.lost(t, stagedAs(s.cfg.StagingDir, rel, want))
	s.w.finish(t, res, false)
}

// TestSourceFaults gives one gateway the e-chart server's faults, one at a
// time, on a 90 MB dump pulled at 25 MB/s so that each can strike in the
// middle of the file.
func TestSourceFaults(t *testing.T) {
	w := newWorld(t)
	sshd := w.r.SSHD
	s := w.scenario(t)
	s.cfg.BandwidthLimit = 25e6
	export := filepath.Join(sshd.Export, "db", "emr.dmp")
	// midFile: the pull has made its first checkpoint (64 MB) durable, so
	// a resume has somewhere to continue from.
	checkpoint := filepath.Join(s.cfg.StagingDir, "partial", "emr", "db", "emr.dmp.part.json")
	midFile := func(ev backup.CycleEvent) bool {
		if ev.Pull == nil || ev.Pull.Kind != pull.EventProgress {
			return false
		}
		_, err := os.Stat(checkpoint)
		return err == nil
	}
	put := func(t *testing.T, data []byte) {
		t.Helper()
		if err := sshd.WriteFile("db/emr.dmp", data, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// resumed records where a pull continued a partial file.
	resumed := func(at *atomic.Int64) func(backup.CycleEvent) {
		return func(ev backup.CycleEvent) {
			if ev.Pull != nil && ev.Pull.Kind == pull.EventResume && ev.Pull.File == "db/emr.dmp" {
				at.Store(ev.Pull.Offset)
			}
		}
	}

	t.Run("sshd_killed_mid-file", func(t *testing.T) {
		res := s.fault("SFTP server killed mid-file, restarted", "pull")
		s.cfg.Sources[0].Attempts = 2 // one reconnect to the dead server, then give up
		defer func() { s.cfg.Sources[0].Attempts = w.r.Cfg.Sources[0].Attempts }()
		var once sync.Once
		rep, err := s.cycle(t, func(ev backup.CycleEvent) {
			if midFile(ev) {
				once.Do(sshd.Stop)
			}
		})
		switch {
		case err == nil:
			t.Fatal("the cycle succeeded with the e-chart server down")
		case !strings.Contains(err.Error(), "電子カルテサーバ") || !strings.Contains(err.Error(), sshd.Addr()):
			t.Errorf("the failure does not name the e-chart server %s: %v", sshd.Addr(), err)
		case rep == nil || len(rep.Media) != 0:
			t.Errorf("a medium was powered with nothing new pulled: %+v", rep)
		}
		if len(pullErrors(t, s.cfg.LedgerDir)) != 1 || len(s.alerts.firing(string(alert.KindCycleFailed))) == 0 {
			t.Error("the failed pull is not in the ledger or was not alerted")
		}
		res.falseOffln += w.falseOffline(t)
		if err := sshd.Restart(false); err != nil {
			t.Fatal(err)
		}
		var at atomic.Int64
		rep, err = s.cycle(t, resumed(&at))
		if err != nil || !rep.OK() {
			t.Fatalf("the cycle after the server came back failed: %v", err)
		}
		size := int64(len(dump(1)))
		if at.Load() < 64<<20 || rep.Pulls[0].BytesTransferred >= size {
			t.Errorf("the pull did not resume the partial file: resumed at %d, %d bytes moved for %d", at.Load(), rep.Pulls[0].BytesTransferred, size)
		}
		s.finish(t, &res, "db/emr.dmp", dump(1))
	})

	t.Run("connection_cut_mid-file", func(t *testing.T) {
		res := s.fault("SFTP connection cut mid-file", "pull")
		put(t, dump(2))
		var once sync.Once
		var at atomic.Int64
		onResume := resumed(&at)
		rep, err := s.cycle(t, func(ev backup.CycleEvent) {
			onResume(ev)
			if midFile(ev) {
				once.Do(func() {
					if n, err := sshd.KillSessions(); err != nil || n == 0 {
						t.Errorf("cut the connections: %d, %v", n, err)
					}
				})
			}
		})
		if err != nil || !rep.OK() {
			t.Fatalf("the cycle did not ride out the cut connection: %v", err)
		}
		if at.Load() < 64<<20 {
			t.Errorf("the pull did not resume the partial file (resumed at %d)", at.Load())
		}
		s.finish(t, &res, "db/emr.dmp", dump(2))
	})

	t.Run("file_rewritten_during_transfer", func(t *testing.T) {
		res := s.fault("export file rewritten during the transfer", "pull")
		put(t, dump(3))
		// The rewrite, in place as a careless exporter does, strikes once
		// 16 MB of the file are staged: watched on the partial file, not on
		// the progress ticks, which can come late on a busy machine.
		next := dump(4)
		part := strings.TrimSuffix(checkpoint, ".json")
		stop := make(chan struct{})
		struck := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					struck <- nil
					return
				case <-time.After(5 * time.Millisecond):
				}
				if fi, err := os.Stat(part); err == nil && fi.Size() > 16<<20 {
					t.Logf("rewriting the export at %d staged bytes", fi.Size())
					struck <- os.WriteFile(export, next, 0o644)
					return
				}
			}
		}()
		rep, err := s.cycle(t, nil)
		close(stop)
		if werr := <-struck; werr != nil {
			t.Fatal(werr)
		}
		var inc *pull.IncompleteError
		// put dates the export an hour back; the rewrite dates it now.
		fi, serr := os.Stat(export)
		rewritten := serr == nil && time.Since(fi.ModTime()) < time.Minute
		switch {
		case !rewritten:
			t.Fatal("the export was never rewritten during the transfer (no progress event mid-file)")
		case err == nil || rep.OK():
			t.Fatal("a cycle that could not stage the rewritten file succeeded")
		case !errors.As(err, &inc) || len(inc.Failed) != 1 || inc.Failed[0].Path != "db/emr.dmp":
			t.Errorf("the failure does not name the rewritten file: %v", err)
		}
		// Not staged as complete: the previous version stays.
		if err := stagedAs(s.cfg.StagingDir, "db/emr.dmp", dump(2)); err != nil {
			t.Errorf("after the rewrite: %v", err)
			res.dataLost = 1
		}
		if len(s.alerts.firing(string(alert.KindCycleFailed))) == 0 {
			t.Error("the incomplete pull was not alerted")
		}
		res.falseOffln += w.falseOffline(t)
		time.Sleep(1500 * time.Millisecond) // the rewritten file is stable again
		if rep, err := s.cycle(t, nil); err != nil || !rep.OK() {
			t.Fatalf("the cycle after the rewrite failed: %v", err)
		}
		s.finish(t, &res, "db/emr.dmp", dump(4))
	})

	// Last: the configuration's pin is replaced when the key is accepted.
	t.Run("host_key_changed", func(t *testing.T) {
		res := s.fault("SFTP host key changed", "connect")
		if err := sshd.Restart(true); err != nil { // rebuilt, or an impostor
			t.Fatal(err)
		}
		const csv = "csv/患者.csv"
		old, _ := os.ReadFile(filepath.Join(sshd.Export, csv))
		changed := []byte("患者ID,氏名\n1,偽 太郎\n")
		if err := sshd.WriteFile(csv, changed, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		errsBefore := len(pullErrors(t, s.cfg.LedgerDir))
		rep, err := s.cycle(t, nil)
		var hk *pull.HostKeyError
		switch {
		case !errors.As(err, &hk) || !hk.Changed:
			t.Fatalf("want a changed host key refused, got %v", err)
		case !strings.Contains(err.Error(), hk.Fingerprint):
			t.Errorf("the refusal does not show the offered key: %v", err)
		case rep == nil || len(rep.Media) != 0:
			t.Errorf("a medium was powered after the refusal: %+v", rep)
		}
		if err := stagedAs(s.cfg.StagingDir, csv, old); err != nil {
			t.Errorf("something was staged from the refused server: %v", err)
			res.dataLost = 1
		}
		if len(pullErrors(t, s.cfg.LedgerDir)) != errsBefore+1 {
			t.Error("the refused key is not in the ledger")
		}
		var named bool
		for _, a := range s.alerts.firing(string(alert.KindCycleFailed)) {
			named = named || strings.Contains(fmt.Sprint(a["detail"]), hk.Fingerprint)
		}
		if !named {
			t.Errorf("no alert shows the refused key: %v", s.alerts.got)
		}
		res.falseOffln += w.falseOffline(t)
		// Staff compare the fingerprint with the vendor and accept it,
		// as `danzen hostkey --accept` does.
		addr := knownhosts.Normalize(net.JoinHostPort("127.0.0.1", strconv.Itoa(sshd.Port)))
		s.cfg.Sources[0].KnownHosts = []string{knownhosts.Line([]string{addr}, hk.Offered)}
		if rep, err := s.cycle(t, nil); err != nil || !rep.OK() {
			t.Fatalf("the cycle after accepting the new key failed: %v", err)
		}
		s.finish(t, &res, csv, changed)
	})
}
