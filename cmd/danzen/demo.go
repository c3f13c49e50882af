package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
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
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/web"
)

// demoOptions are the demo's flags.
type demoOptions struct {
	dir        string
	dumpBytes  int64
	smallFiles int
	once       bool
	listen     string
	restic     string
}

// runDemo runs the main job on the embedded default: an in-process SFTP
// server with a generated export, two file-backed disks behind the relays
// of a simulated Modbus RTU relay module (on a pseudo-terminal, through
// the same driver as a real module), two cycles (the second after ~5% of the dump changed), a restore
// drill, then the status page on 127.0.0.1.
func runDemo(ctx context.Context, c *cli, args []string) (err error) {
	o, err := demoFlags(args)
	if err != nil {
		return err
	}
	env, err := setUpDemo(ctx, c, o)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := env.Close(); cerr != nil {
			c.log.Warn("demo: cannot stop the SFTP server or detach the disks", "err", cerr)
		}
	}()
	g, err := gateway.Open(ctx, env.Config, gateway.Options{RelaySources: env.Hardware.Sources(), Logger: c.log, ConfigPath: env.CfgPath})
	if err != nil {
		return err
	}
	defer closeGateway(g, &err)
	c.inZone(env.Config)
	if err := prepareDemoMedia(ctx, c.out, g, env); err != nil {
		return err
	}
	if err := runDemoCycles(ctx, c.out, g, env); err != nil {
		return err
	}
	if err := runDemoDrill(ctx, c.out, g, env); err != nil {
		return err
	}
	c.out.line("staging: " + env.Config.StagingDir + "\nconfiguration: " + env.CfgPath)
	if o.once {
		return nil
	}
	return serve(ctx, c, o.listen, g)
}

// demoFlags reads the demo's flags and checks that it can run here: as
// root (its disks are loop devices) and with restic.
func demoFlags(args []string) (demoOptions, error) {
	var o demoOptions
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", "working directory (default: a new temporary one)")
	dumpSize := fs.String("dump-size", "200MB", "size of the generated SQL dump")
	fs.IntVar(&o.smallFiles, "small-files", 300, "number of small files in the export")
	fs.BoolVar(&o.once, "once", false, "exit after the cycles instead of serving the page")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of the status page")
	if err := fs.Parse(args); err != nil {
		return o, flagError(err)
	}
	size, err := config.ParseRate(*dumpSize + "/s")
	if err != nil || size <= 0 {
		return o, usageError{msg.Sprintf("--dump-size %q: 200MB のように大きさを指定してください", "--dump-size %q: use a size like 200MB", *dumpSize)}
	}
	o.dumpBytes = int64(size)
	if os.Geteuid() != 0 {
		return o, msg.New("デモは root で実行してください(ファイル上のディスクをループデバイスとして接続します)", "run the demo as root: its file-backed disks attach as loop devices")
	}
	if o.restic = os.Getenv("DANZEN_RESTIC"); o.restic == "" {
		if o.restic, err = exec.LookPath("restic"); err != nil {
			return o, msg.New("restic v0.19.1 が見つかりません: bin/restic を作る make demo で実行してください", "restic v0.19.1 not found: run `make demo`, which builds bin/restic")
		}
	}
	return o, nil
}

// setUpDemo generates the export and the disks in o.dir (a new temporary
// directory when none is given) and starts the e-chart server.
func setUpDemo(ctx context.Context, c *cli, o demoOptions) (*demo.Env, error) {
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "danzen-demo-")
		if err != nil {
			return nil, err
		}
		o.dir = dir
	}
	c.out.say(msg.Sprintf("danzen デモ(%s): %s の電子カルテのエクスポートと 2 GB のファイル上のディスク2台を作成中…",
		"danzen demo in %s: generating a %s e-chart export and two 2 GB file-backed disks…", o.dir, bytesize.Format(o.dumpBytes)))
	env, err := demo.Setup(ctx, demo.Options{Dir: o.dir, DumpBytes: o.dumpBytes, SmallFiles: o.smallFiles,
		Media: []string{"disk-a", "disk-b"}, DiskSize: 2 << 30, ResticBinary: o.restic, Modbus: true}, c.log)
	if err != nil {
		return nil, err
	}
	c.out.say(msg.Sprintf("電子カルテサーバ(デモ): sftp://%s%s", "e-chart server (demo): sftp://%s%s", env.Server.Addr, env.Export))
	for _, m := range env.Config.RelayModules {
		c.out.say(msg.Sprintf("リレーモジュール(デモ、Modbus RTU のシミュレータ): %s、アドレス %d", "relay module (demo, a simulated Modbus RTU module): %s, address %d", m.Device, m.Address))
	}
	return env, nil
}

// prepareDemoMedia gives every disk its password and prepares it.
func prepareDemoMedia(ctx context.Context, s *screen, g *gateway.Gateway, env *demo.Env) error {
	for _, m := range env.Config.Media {
		if _, _, err := g.NewPassword(m.Name); err != nil {
			return err
		}
		s.say(msg.Sprintf("媒体 %s を初期化中(パスワードは %s)", "preparing medium %s (password in %s)", m.Name, env.Config.KeyPath(m.PasswordFile)))
		mr, err := g.PrepareMedium(ctx, m.Name, false, nil)
		if err != nil {
			return err
		}
		printMedium(s, mr)
	}
	return nil
}

// runDemoCycles runs two cycles, the second after ~5% of the dump changed.
func runDemoCycles(ctx context.Context, s *screen, g *gateway.Gateway, env *demo.Env) error {
	for i := 1; i <= 2; i++ {
		if i == 2 {
			s.line("")
			s.say(msg.T("ダンプの約5%を変更…", "changing ~5% of the dump…"))
			if err := demo.ChangeDump(env.Export, 0.05, 2); err != nil {
				return err
			}
		}
		s.heading(msg.Sprintf("サイクル %d", "cycle %d", i))
		rep, err := g.RunCycle(ctx, newCyclePrinter(s).event)
		if rep != nil {
			printCycle(s, rep)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// runDemoDrill runs a restore drill, then verifies the ledger the demo
// wrote.
func runDemoDrill(ctx context.Context, s *screen, g *gateway.Gateway, env *demo.Env) error {
	s.heading(msg.T("復元訓練", "restore drill"))
	drill, err := g.Drill(ctx, "", "demo", newCyclePrinter(s).event)
	if drill != nil {
		printRestore(s, drill)
	}
	if err != nil {
		return err
	}
	rep, err := ledger.Verify(env.Config.LedgerDir)
	s.line("")
	s.write(rep.Localize(s.lang))
	return err
}

// serve shows the page on 127.0.0.1 until ctx ends (Ctrl-C), with a demo
// vendor-admin account whose password it prints. Plain HTTP is enough
// there: browsers treat 127.0.0.1 as a secure origin, so the page's
// Secure cookies work.
func serve(ctx context.Context, c *cli, addr string, g *gateway.Gateway) error {
	a, err := auth.New(auth.Options{Dir: g.Config().SecretsDir, Audit: web.AuditTo(g, c.log), Log: c.log})
	if err != nil {
		return err
	}
	const demoUser = "demo"
	raw := make([]byte, 12)
	_, _ = rand.Read(raw) // never fails since Go 1.24
	pw := base64.RawURLEncoding.EncodeToString(raw)
	if _, ok := a.User(demoUser); ok {
		err = a.SetPassword(ctx, "system", demoUser, pw)
	} else {
		err = a.AddUser(ctx, "system", demoUser, auth.RoleVendorAdmin, pw)
	}
	if err != nil {
		return msg.Wrap(err, "デモ用アカウントを作成できません", "cannot create the demo account")
	}
	page, err := web.New(web.Options{Core: g, Auth: a, Recorder: g, Log: c.log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return msg.Errorf("%s でページを開けません: %w", "cannot serve the page on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	c.out.line("")
	c.out.say(msg.Sprintf("ページ: http://%s/  (Ctrl-C で終了)", "page: http://%s/  (Ctrl-C to stop)", ln.Addr()))
	c.out.say(msg.Sprintf("ユーザー名: %s  パスワード: %s", "user: %s  password: %s", demoUser, pw))
	if err := c.out.Err(); err != nil {
		return err // nobody can read the password
	}
	go stopOnDone(ctx, srv, c.log)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// stopOnDone shuts srv down when ctx ends.
func stopOnDone(ctx context.Context, srv *http.Server, log *slog.Logger) {
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("demo: stopping the page", "err", err)
	}
	// The live view's streams do not end by themselves; closing them is
	// all that is left, so its error says nothing new.
	_ = srv.Close()
}
