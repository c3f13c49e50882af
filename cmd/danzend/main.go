// Command danzend is the appliance daemon: it opens the configuration,
// drives every relay off and verifies it before anything else, runs the
// scheduled cycles and serves the local page over HTTPS. It runs under
// gokrazy and, for development, on any Linux machine.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/clock"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netconf"
	"github.com/danzen-gw/danzen/schedule"
	"github.com/danzen-gw/danzen/web"
)

func main() {
	dir := flag.String("dir", "/perm/danzen", "state directory: config.json, secrets/, staging/, ledger/, tls/")
	listen := flag.String("listen", ":8443", "HTTPS address of the page (gokrazy's own page is on its unix socket only)")
	cycleNow := flag.Bool("cycle-now", false, "run one cycle right after start (acceptance tests), then follow the schedule")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *dir, *listen, *cycleNow); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("danzend stopped", "err", err)
		os.Exit(1)
	}
	// Exit 0 tells gokrazy not to restart us after a deliberate stop.
}

func run(ctx context.Context, log *slog.Logger, dir, listen string, cycleNow bool) error {
	con := console()
	// The clock is set before anything is dated (files, ledger entries).
	var gw atomic.Pointer[gateway.Gateway]
	notice := &linkLocalNotice{con: con, log: log, port: portOf(listen)}
	sys, clk := appliance(dir, log, func() []string { return ntpServers(gw.Load()) }, notice.linkLocal)
	if clk != nil {
		say(con, log, clk.Start())
	}
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	cfg := loaded.Config
	if loaded.Created {
		log.Info("first start: created the state directory and a default configuration", "dir", dir)
	}
	nets := netconf.New(netconf.Options{System: sys, Dir: filepath.Join(dir, "network"), Log: log})
	defer func() {
		if err := nets.Close(); err != nil {
			log.Warn("closing the network", "err", err)
		}
	}()
	// The network comes up alongside the relays' fail-safe (a static
	// address waits up to 10 s for the link), and before anything that
	// can stop danzend: without it neither the page nor gokrazy's update
	// interface can be reached.
	booted := bootNetwork(ctx, nets, cfg.Network)
	if _, err := schedule.Parse(cfg.Schedule); err != nil {
		return err
	}
	opts := gateway.Options{Logger: log, ConfigPath: filepath.Join(dir, "config.json"), Network: nets}
	if clk != nil {
		opts.TimeSync = clk // never a typed nil: a bench PC keeps its own time
	}
	// Relays are cut and checked before waiting for anything else.
	g, err := gateway.Open(ctx, cfg, opts)
	if err != nil {
		return err
	}
	gw.Store(g)
	defer func() {
		// Close drives every relay off again, even after a signal.
		if err := g.Close(); err != nil {
			log.Error("closing: a relay did not verify off", "err", err)
		}
	}()
	notice.attach(g)
	defer notice.attach(nil) // before the ledger closes
	say(con, log, msg.T("リレーをすべて切断しました", "all relays driven off at start"))
	if loaded.Fallback != nil {
		say(con, log, msg.Plain(loaded.Fallback.Error()))
		g.ReportFault(ctx, "config.fallback", loaded.Fallback)
	}
	if loaded.Unfinished != nil {
		say(con, log, msg.TextOf(loaded.Unfinished))
	}

	srv, err := servePage(log, con, dir, listen, g)
	if err != nil {
		return err
	}
	defer func() {
		// Stopping: open streams are cut, which is what is wanted.
		if err := srv.Close(); err != nil {
			log.Warn("closing the page", "err", err)
		}
	}()
	networkBooted(con, log, g, <-booted)
	if clk != nil {
		stopClock := keepTime(ctx, log, clk, g)
		defer stopClock()
		if err := waitForClock(ctx, con, log, clk); err != nil {
			return err
		}
	}
	return runSchedules(ctx, log, g, cycleNow)
}

// ntpServers are the time servers the configuration names now (none
// before the gateway is open): the clock reads them every round.
func ntpServers(g *gateway.Gateway) []string {
	if g == nil {
		return nil
	}
	return g.Config().Network.NTPServers
}

// netBoot is how applying the saved network settings at the start ended.
type netBoot struct {
	left *netconf.Pending
	err  error
}

// bootNetwork applies the saved network settings n in the background.
func bootNetwork(ctx context.Context, nets *netconf.Manager, n config.Network) <-chan netBoot {
	done := make(chan netBoot, 1)
	go func() {
		left, err := nets.Boot(ctx, n)
		done <- netBoot{left, err}
	}()
	return done
}

// networkBooted records how the start applied the network: a change the
// previous run left unconfirmed is not kept (the saved settings apply);
// settings that cannot be applied are reported, and the page stays
// served on whatever address the interface has.
func networkBooted(con io.Writer, log *slog.Logger, g *gateway.Gateway, b netBoot) {
	if b.left != nil {
		g.NetworkInterrupted(b.left)
		say(con, log, msg.T("確認前に再起動したため、ネットワークの変更は取り消され、保存されている設定で起動しました",
			"the network change was not confirmed before the restart: the saved settings apply"))
	}
	if b.err != nil {
		say(con, log, msg.TextOf(msg.Wrap(b.err, "ネットワーク設定を適用できません", "cannot apply the network settings")))
		g.NetworkFailed(b.err)
	}
}

// keepTime runs the clock until the returned stop is called (before the
// gateway closes: the clock records its changes in the ledger).
func keepTime(ctx context.Context, log *slog.Logger, clk *clock.Clock, g *gateway.Gateway) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := clk.Run(ctx, g.ClockChanged); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("clock", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}

// waitForClock decides when the schedule starts. On a hardware clock it
// starts at once: a restart at 01:59 must not lose the 02:00 cycle, and
// NTP only corrects a drift. Without one (a Raspberry Pi 4: 1970, or the
// time saved at the last shutdown) it waits for the clock to settle, at
// most clock.DefaultWait for an NTP answer (at once without a server): a
// schedule planned on a clock NTP is about to move by hours or years
// would fire at a random hour and then count every slot in between as
// missed. After that it runs on whatever time there is, never later.
func waitForClock(ctx context.Context, con io.Writer, log *slog.Logger, clk *clock.Clock) error {
	if clk.State() == ledger.ClockRTC {
		return nil
	}
	select {
	case <-clk.Settled():
	default:
		say(con, log, msg.Sprintf("ハードウェア時計がないため、NTP サーバーの応答を最長 %s 待ってから予定を開始します",
			"no hardware clock: the schedule starts once an NTP server answers, or after %s at most", duration.Words(clock.DefaultWait)))
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.Settled():
		return nil
	}
}

// runSchedules runs the cycles, drills, scans and ledger verifications at
// their schedules until ctx ends (after one cycle at once with cycleNow).
func runSchedules(ctx context.Context, log *slog.Logger, g *gateway.Gateway, cycleNow bool) error {
	if cycleNow {
		rep, err := g.RunCycle(ctx, nil)
		if err != nil {
			log.Error("cycle failed", "err", err)
		} else {
			log.Info("cycle done", "id", rep.ID, "ok", rep.OK())
		}
	}
	log.Info("scheduling cycles, drills and scans", "schedule", g.Config().Schedule, "drills", g.Config().Restore.DrillSchedule, "scans", g.Config().Scan.Schedule, "zone", g.Config().TimeZone)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	drills, scans, verifies, held := make(chan error, 1), make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { drills <- g.RunDrillSchedule(ctx, nil) }()
	go func() { scans <- g.RunScanSchedule(ctx, nil) }()
	go func() { verifies <- g.RunLedgerVerifySchedule(ctx, nil) }()
	go func() { held <- g.RunPending(ctx, nil) }() // shortenings that came due (gateway/pending.go)
	err := g.RunSchedule(ctx, nil, nil)
	stop()
	return errors.Join(err, <-drills, <-scans, <-verifies, <-held)
}

// servePage starts the page on listen over HTTPS: the certificate, the
// accounts (with the one-time setup code on the console) and the page.
func servePage(log *slog.Logger, con io.Writer, dir, listen string, g *gateway.Gateway) (*http.Server, error) {
	names, ips := web.CertNames()
	certs, created, err := web.OpenCertStore(filepath.Join(dir, "tls"), names, ips)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("first start: generated the page's self-signed certificate", "names", names, "ips", ips)
	}
	// Printed at every start: the vendor compares it with what the
	// browser shows before trusting the page.
	say(con, log, msg.Sprintf("証明書の SHA-256 指紋: %s", "certificate SHA-256 fingerprint: %s", certs.Fingerprint()))

	rec := g
	a, err := auth.New(auth.Options{Dir: g.Config().SecretsDir, Audit: web.AuditTo(rec, log), Log: log})
	if err != nil {
		return nil, err
	}
	code, expires, err := a.EnsureSetupCode()
	if err != nil {
		return nil, err
	}
	if code != "" {
		until := when.Of(g.Config().TimeZone).Minute(expires)
		say(con, log, msg.Sprintf("初期設定コード: %s(%s まで有効)", "setup code: %s (valid until %s)", code, until))
		say(con, log, msg.Sprintf("https://<このゲートウェイ>%s/setup で最初の保守ベンダ管理者を作成してください",
			"create the first vendor admin at https://<this gateway>%s/setup", portOf(listen)))
	}
	page, err := web.New(web.Options{Core: g, Auth: a, Recorder: rec, Certs: certs, Log: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, msg.Errorf("%s でページを開けません: %w", "cannot serve the page on %s: %w", listen, err)
	}
	srv := &http.Server{
		Handler:           page,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate},
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug), // browsers refusing the self-signed certificate are not errors
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			log.Error("page", "err", err)
		}
	}()
	log.Info("page", "url", "https://"+ln.Addr().String()+"/")
	return srv, nil
}

// say writes t to the console in both languages: the person at the
// gateway has chosen no language yet, and the log keeps both.
func say(con io.Writer, log *slog.Logger, t msg.Text) {
	if _, err := io.WriteString(con, "danzen: "+t.String()+"\n"); err != nil {
		log.Warn("console", "text", t.String(), "err", err)
	}
}

func portOf(listen string) string {
	_, p, err := net.SplitHostPort(listen)
	if err != nil || p == "443" {
		return ""
	}
	return ":" + p
}
