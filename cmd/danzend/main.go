// Command danzend is the appliance daemon: it opens the configuration,
// drives every relay off and verifies it before anything else, runs the
// scheduled cycles and serves the status page. It runs under gokrazy and,
// for development, on any Linux machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/schedule"
	"github.com/danzen-gw/danzen/web"
)

func main() {
	dir := flag.String("dir", "/perm/danzen", "state directory: config.json, secrets/, staging/, ledger/")
	listen := flag.String("listen", ":8080", "address of the status page (gokrazy's own page has port 80)")
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
	cfg, created, err := gateway.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	if created {
		log.Info("first start: created the state directory and a default configuration", "dir", dir)
	}
	sched, err := schedule.Parse(cfg.Schedule)
	if err != nil {
		return err
	}
	// Relays are cut and checked before waiting for anything else.
	g, err := gateway.Open(ctx, cfg, gateway.Options{Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		// Close drives every relay off again, even after a signal.
		if err := g.Close(); err != nil {
			log.Error("closing: a relay did not verify off", "err", err)
		}
	}()
	fmt.Fprintln(os.Stderr, "danzen: リレーをすべて切断しました / all relays driven off at start")

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("状態ページを開けません / cannot serve the status page on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: web.Handler(g.Status, log), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("status page", "err", err)
		}
	}()
	defer srv.Close()
	log.Info("status page", "addr", ln.Addr().String())

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
	log.Info("scheduling cycles", "schedule", sched.String())
	return g.RunSchedule(ctx, sched, nil, nil)
}
