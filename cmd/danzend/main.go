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
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/schedule"
	"github.com/danzen-gw/danzen/web"
)

func main() {
	dir := flag.String("dir", "/perm/danzen", "state directory: config.json, secrets/, staging/, ledger/, tls/")
	listen := flag.String("listen", ":8443", "HTTPS address of the page (gokrazy's own page keeps port 80)")
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
	loaded, err := gateway.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	cfg := loaded.Config
	if loaded.Created {
		log.Info("first start: created the state directory and a default configuration", "dir", dir)
	}
	if _, err := schedule.Parse(cfg.Schedule); err != nil {
		return err
	}
	// Relays are cut and checked before waiting for anything else.
	g, err := gateway.Open(ctx, cfg, gateway.Options{Logger: log, ConfigPath: filepath.Join(dir, "config.json")})
	if err != nil {
		return err
	}
	defer func() {
		// Close drives every relay off again, even after a signal.
		if err := g.Close(); err != nil {
			log.Error("closing: a relay did not verify off", "err", err)
		}
	}()
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

	if err := waitForClock(ctx, log); err != nil {
		return err
	}
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
	drills, scans, verifies := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { drills <- g.RunDrillSchedule(ctx, nil) }()
	go func() { scans <- g.RunScanSchedule(ctx, nil) }()
	go func() { verifies <- g.RunLedgerVerifySchedule(ctx, nil) }()
	err = g.RunSchedule(ctx, nil, nil)
	stop()
	return errors.Join(err, <-drills, <-scans, <-verifies)
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
