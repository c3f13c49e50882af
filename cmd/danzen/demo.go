package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/web"
)

// runDemo runs the main job on the embedded default: an in-process SFTP
// server with a generated export, two file-backed disks behind fake
// relays, two cycles (the second after ~5% of the dump changed), a restore
// drill, then the status page on 127.0.0.1.
func runDemo(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "", "working directory (default: a new temporary one)")
	dumpSize := fs.String("dump-size", "200MB", "size of the generated SQL dump")
	small := fs.Int("small-files", 300, "number of small files in the export")
	once := fs.Bool("once", false, "exit after the cycles instead of serving the page")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the status page")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	size, err := config.ParseRate(*dumpSize + "/s")
	if err != nil || size <= 0 {
		return usageError{fmt.Sprintf("--dump-size %q: use a size like 200MB", *dumpSize)}
	}
	if os.Geteuid() != 0 {
		return errors.New("デモは root で実行してください(ファイル上のディスクをループデバイスとして接続します) / run the demo as root: its file-backed disks attach as loop devices")
	}
	resticBin := os.Getenv("DANZEN_RESTIC")
	if resticBin == "" {
		if resticBin, err = exec.LookPath("restic"); err != nil {
			return errors.New("restic v0.19.1 not found: run `make demo`, which builds bin/restic")
		}
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "danzen-demo-"); err != nil {
			return err
		}
	}
	fmt.Printf("danzen demo in %s: generating a %s e-chart export and two 2 GB file-backed disks…\n", *dir, human(int64(size)))
	env, err := demo.Setup(ctx, demo.Options{Dir: *dir, DumpBytes: int64(size), SmallFiles: *small,
		Media: []string{"disk-a", "disk-b"}, DiskSize: 2 << 30, ResticBinary: resticBin}, log)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Printf("電子カルテサーバ(デモ) / e-chart server (demo): sftp://%s%s\n", env.Server.Addr, env.Export)

	g, err := gateway.Open(ctx, env.Config, gateway.Options{RelaySources: env.Hardware.Sources(), Logger: log, ConfigPath: env.CfgPath})
	if err != nil {
		return err
	}
	defer g.Close()
	for _, m := range env.Config.Media {
		if _, _, err := g.NewPassword(m.Name); err != nil {
			return err
		}
		fmt.Printf("媒体の初期化 / preparing medium %s (password in %s)\n", m.Name, env.Config.KeyPath(m.PasswordFile))
		mr, err := g.PrepareMedium(ctx, m.Name, false, nil)
		if err != nil {
			return err
		}
		printMedium(os.Stdout, mr)
	}
	for i := 1; i <= 2; i++ {
		if i == 2 {
			fmt.Println("\nダンプの約5%を変更 / changing ~5% of the dump…")
			if err := demo.ChangeDump(env.Export, 0.05, 2); err != nil {
				return err
			}
		}
		fmt.Printf("\n=== サイクル / cycle %d ===\n", i)
		rep, err := g.RunCycle(ctx, newCyclePrinter(os.Stdout).event)
		if rep != nil {
			printCycle(os.Stdout, rep)
		}
		if err != nil {
			return err
		}
	}
	fmt.Println("\n=== 復元訓練 / restore drill ===")
	drill, err := g.Drill(ctx, "", "demo", newCyclePrinter(os.Stdout).event)
	if drill != nil {
		printRestore(os.Stdout, drill)
	}
	if err != nil {
		return err
	}
	rep, err := ledger.Verify(env.Config.LedgerDir)
	fmt.Println("\n" + rep.String())
	if err != nil {
		return err
	}
	fmt.Printf("staging: %s\nconfiguration: %s\n", env.Config.StagingDir, env.CfgPath)
	if *once {
		return nil
	}
	return serve(ctx, *listen, g, log)
}

// serve shows the page on 127.0.0.1 until ctx ends (Ctrl-C), with a demo
// vendor-admin account whose password it prints. Plain HTTP is enough
// there: browsers treat 127.0.0.1 as a secure origin, so the page's
// Secure cookies work.
func serve(ctx context.Context, addr string, g *gateway.Gateway, log *slog.Logger) error {
	a, err := auth.New(auth.Options{Dir: g.Config().SecretsDir, Audit: web.AuditTo(g, log), Log: log})
	if err != nil {
		return err
	}
	const demoUser = "demo"
	raw := make([]byte, 12)
	rand.Read(raw) // never fails since Go 1.24
	pw := base64.RawURLEncoding.EncodeToString(raw)
	if _, ok := a.User(demoUser); ok {
		err = a.SetPassword(ctx, "system", demoUser, pw)
	} else {
		err = a.AddUser(ctx, "system", demoUser, auth.RoleVendorAdmin, pw)
	}
	if err != nil {
		return fmt.Errorf("デモ用アカウントを作成できません / cannot create the demo account: %w", err)
	}
	page, err := web.New(web.Options{Core: g, Auth: a, Recorder: g, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ページを開けません / cannot serve the page on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("\nページ / page: http://%s/  (Ctrl-C で終了 / to stop)\n", ln.Addr())
	fmt.Printf("ユーザー名 / user: %s  パスワード / password: %s\n", demoUser, pw)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		srv.Close() // the live view's streams do not end by themselves
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
