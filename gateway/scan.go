package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/kev"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// scans is the gateway's self-scan state.
type scans struct {
	run      sync.Mutex // one scan at a time
	running  atomic.Bool
	register sync.Mutex // one register edit at a time
}

// maxScanReports bounds the reports ScanReports lists, newest first.
const maxScanReports = 50

// ErrScanNotFound: no stored report has that ID.
var ErrScanNotFound = msg.New("その調査結果はありません", "no such scan report")

// scanBase is the path netprobe resolves the register, the reports and
// the feed against: the configuration file, or for a gateway opened
// without one (tests, the demo) a name in the ledger's parent, which is
// the state directory in the appliance's layout.
func (g *Gateway) scanBase() string {
	if g.opts.ConfigPath != "" {
		return g.opts.ConfigPath
	}
	return filepath.Join(filepath.Dir(g.Config().LedgerDir), "config.json")
}

func (g *Gateway) scanStore() netprobe.Store {
	_, dir := netprobe.Files(g.scanBase(), g.Config().Scan)
	return netprobe.Store{Dir: dir}
}

// Scan runs one self-scan of the register's connection points. It waits
// for a running cycle, restore or drill to end, so a scan never competes
// with a transfer, and holds the gateway while it runs. New 注意
// findings are alerted. actor is recorded.
func (g *Gateway) Scan(ctx context.Context, actor string) (*netprobe.Report, error) {
	g.scans.run.Lock()
	defer g.scans.run.Unlock()
	g.job.Lock()
	defer g.job.Unlock()
	return g.scanLocked(ctx, actor, false)
}

// StartScan runs a scan in the background (the page's "scan now"). It
// refuses with ErrBusy while another scan runs and, unless anyway is set,
// while a job holds the gateway; with anyway the scan runs beside the job
// (the operator asked for it) and the ledger says so.
func (g *Gateway) StartScan(ctx context.Context, actor string, anyway bool) error {
	if !g.scans.run.TryLock() {
		return ErrBusy
	}
	held := g.job.TryLock()
	if !held && !anyway {
		g.scans.run.Unlock()
		return ErrBusy
	}
	go func() {
		defer g.scans.run.Unlock()
		if held {
			defer g.job.Unlock()
		}
		if _, err := g.scanLocked(context.WithoutCancel(ctx), actor, !held); err != nil {
			g.log.Error("scan", "err", err)
		}
	}()
	return nil
}

// Scanning reports whether a scan is running.
func (g *Gateway) Scanning() bool { return g.scans.running.Load() }

func (g *Gateway) scanLocked(ctx context.Context, actor string, anyway bool) (*netprobe.Report, error) {
	g.scans.running.Store(true)
	defer g.scans.running.Store(false)
	cfg := g.Config()
	d := ledger.ScanData{Started: time.Now(), Anyway: anyway}
	r, name, err := netprobe.Run(ctx, g.log, g.scanBase(), cfg.Scan)
	d.Finished = time.Now()
	if r != nil {
		d.Started, d.Finished, d.Targets = r.Started, r.Finished, len(r.Targets)
		for _, t := range r.Targets {
			d.Addresses += len(t.Hosts)
			for _, h := range t.Hosts {
				d.OpenPorts += len(h.Ports)
			}
		}
		d.Cautions, d.NewCautions = r.Cautions(), len(r.NewCautions())
	}
	if name != "" {
		d.Report = ScanID(name)
	}
	text := msg.Sprintf("自己診断: 注意 %d 件(新規 %d 件)", "self-scan: %d cautions (%d new)", d.Cautions, d.NewCautions)
	if err != nil {
		d.Error = msg.TextOf(err)
		text = msg.TextOf(msg.Wrap(err, "自己診断に失敗", "self-scan failed"))
	}
	g.record(ledger.Entry{Kind: ledger.KindScan, Actor: actor, Message: text, Payload: d})
	if r != nil {
		for _, a := range r.Alerts(cfg.GatewayID) {
			g.send(a)
		}
	}
	return r, err
}

// RunScanSchedule runs the scan at scan.schedule ("" = on demand only; a
// schedule set later on the page is picked up within a minute). A
// scheduled scan waits for a running cycle to finish.
func (g *Gateway) RunScanSchedule(ctx context.Context, clock Clock) error {
	return g.every(ctx, clock, loop{
		spec: func(c *config.Config) string { return c.Scan.Schedule },
		run: func(ctx context.Context) {
			if _, err := g.Scan(ctx, ledger.ActorSystem); err != nil {
				g.log.Error("scheduled scan failed", "err", err)
			}
		},
		missed: func(n int, due, now time.Time) {
			g.log.Info("scheduled scans skipped: one runs now", "missed", n, "first_due", due)
		},
		next: func(time.Time) {},
	})
}

// ScanSummary is one stored report as the page lists it.
type ScanSummary struct {
	ID                string
	Started, Finished time.Time
	FeedDate          string
	Cautions, New     int
}

// ScanID is the ID of a stored report: its file name without "scan-" and
// ".json" (the start time, so IDs sort in time).
func ScanID(name string) string {
	return strings.TrimSuffix(strings.TrimPrefix(name, "scan-"), ".json")
}

// ScanReports lists the stored reports, newest first (at most
// maxScanReports).
func (g *Gateway) ScanReports() ([]ScanSummary, error) {
	st := g.scanStore()
	names, err := st.List()
	if err != nil {
		return nil, err
	}
	var out []ScanSummary
	for i := len(names) - 1; i >= 0 && len(out) < maxScanReports; i-- {
		r, err := st.Load(names[i])
		if err != nil {
			return out, err
		}
		out = append(out, ScanSummary{ID: ScanID(names[i]), Started: r.Started, Finished: r.Finished, FeedDate: r.FeedDate,
			Cautions: r.Cautions(), New: len(r.NewCautions())})
	}
	return out, nil
}

// ScanReport reads the stored report id. Only IDs of reports the store
// lists are accepted, so no path is ever built from the request.
func (g *Gateway) ScanReport(id string) (*netprobe.Report, error) {
	st := g.scanStore()
	names, err := st.List()
	if err != nil {
		return nil, err
	}
	name := "scan-" + id + ".json"
	if !slices.Contains(names, name) {
		return nil, ErrScanNotFound
	}
	return st.Load(name)
}

// Register reads the register of connection points (empty when none is
// kept yet).
func (g *Gateway) Register() (register.Register, error) {
	path, _ := netprobe.Files(g.scanBase(), g.Config().Scan)
	return register.Load(path)
}

// UpdateRegister applies change to the register, validates the result
// (a *config.ValidationError naming each bad field), saves it atomically
// and records who changed which points. what describes the change for
// the ledger ("add", "import", …).
func (g *Gateway) UpdateRegister(ctx context.Context, actor, what string, change func(*register.Register) error) error {
	g.scans.register.Lock()
	defer g.scans.register.Unlock()
	path, _ := netprobe.Files(g.scanBase(), g.Config().Scan)
	old, err := register.Load(path)
	if err != nil {
		return err
	}
	reg := register.Register{Points: slices.Clone(old.Points)}
	if err := change(&reg); err != nil {
		return err
	}
	if err := netprobe.CheckAddresses(reg, g.Config().Scan); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := register.Save(path, reg); err != nil {
		return err
	}
	added, removed, changed := registerChanges(old, reg)
	return g.Record(ctx, ledger.Entry{Kind: ledger.KindRegisterChange, Actor: actor,
		Message: msg.Sprintf("接続点台帳を変更(%s)", "register of connection points changed (%s)", what),
		Payload: ledger.RegisterChangeData{Change: what, Points: len(reg.Points), Added: added, Removed: removed, Changed: changed}})
}

// registerChanges names the points added, removed and edited.
func registerChanges(old, reg register.Register) (added, removed, changed []string) {
	before := map[string]register.Point{}
	for _, p := range old.Points {
		before[p.ID] = p
	}
	after := map[string]bool{}
	for _, p := range reg.Points {
		after[p.ID] = true
		if q, ok := before[p.ID]; !ok {
			added = append(added, p.ID)
		} else if q != p {
			changed = append(changed, p.ID)
		}
	}
	for _, p := range old.Points {
		if !after[p.ID] {
			removed = append(removed, p.ID)
		}
	}
	return added, removed, changed
}

// ScanFeed is the known-exploited feed the next scan uses: the uploaded
// one when it is valid and not older than the embedded one.
func (g *Gateway) ScanFeed() (*kev.Feed, error) {
	return kev.Load(netprobe.FeedFile(g.scanBase(), g.Config().Scan))
}

// UploadFeed checks an uploaded feed (kev.Accept, and not older than the
// feed in use) and keeps it where scan.kev_feed names.
func (g *Gateway) UploadFeed(ctx context.Context, actor string, data []byte) (*kev.Feed, error) {
	f, err := kev.Accept(data)
	if err != nil {
		return nil, err
	}
	if cur, err := g.ScanFeed(); err == nil && f.Date < cur.Date {
		return nil, msg.Errorf("フィード(%s)は使用中の版(%s)より古いため使いません", "the feed (%s) is older than the one in use (%s) and is not used", f.Date, cur.Date)
	}
	path := netprobe.FeedFile(g.scanBase(), g.Config().Scan)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	err = g.Record(ctx, ledger.Entry{Kind: ledger.KindFeedChange, Actor: actor,
		Message: msg.Sprintf("脆弱性フィードを更新: %s", "known-exploited feed updated: %s", f.Date),
		Payload: ledger.FeedChangeData{Date: f.Date, Entries: len(f.Entries), SHA256: hex.EncodeToString(sum[:])}})
	return f, err
}
