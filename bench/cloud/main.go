// Command cloud measures writing the dump-like export (default ~2 GiB) to
// an object-locked S3 bucket on a local versitygw through danzen, against
// stock restic writing the same staging to a second bucket of the same
// server directly, in the same run: a first backup, then one after ~5% of
// the dump changed. danzen's upload is the medium's whole session without
// forget and check (lock verification with its canary, restic unlock,
// backup, retention extension); the target is upload ÷ stock ≤ 1.05.
// Needs DANZEN_RESTIC and DANZEN_VERSITYGW (make bench-cloud sets them).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/bench/internal/benchkit"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/s3/s3test"
)

func main() { benchkit.Main("bench/cloud", run) }

type round struct {
	name           string
	phases         map[string]time.Duration
	upload, stock  time.Duration
	powered        time.Duration
	added, stockAd string
}

func run(d benchkit.Data) error {
	resticBin, err := filepath.Abs(os.Getenv("DANZEN_RESTIC"))
	if err != nil || os.Getenv("DANZEN_RESTIC") == "" {
		return fmt.Errorf("DANZEN_RESTIC is not set (make bench-cloud sets it)")
	}
	gw, err := s3test.Binary()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("/var/tmp", "danzen-bench-cloud-")
	if err != nil {
		return err
	}
	if !d.Keep {
		defer os.RemoveAll(dir)
	}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	fmt.Printf("generating %d MiB dump + %d small files in %s …\n", d.DumpBytes>>20, d.SmallFiles, dir)
	env, err := demo.Setup(ctx, demo.Options{Dir: dir, DumpBytes: d.DumpBytes, SmallFiles: d.SmallFiles, ResticBinary: resticBin}, log)
	if err != nil {
		return err
	}
	defer env.Close()
	srv, err := s3test.Start(ctx, gw, filepath.Join(dir, "versitygw"))
	if err != nil {
		return err
	}
	defer srv.Close()
	lock := &s3test.Lock{Mode: minio.Compliance, Days: 7}
	for _, b := range []string{"danzen", "reference"} {
		if err := srv.MakeBucket(ctx, b, true, lock); err != nil {
			return err
		}
	}
	cfg := env.Config
	if err := os.WriteFile(cfg.KeyPath("cloud.s3-secret"), []byte(srv.SecretKey), 0o600); err != nil {
		return err
	}
	cfg.Media = []config.Medium{{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
		S3: &s3.Spec{Name: "cloud", Endpoint: srv.Endpoint, Bucket: "danzen", AccessKeyID: srv.AccessKey,
			SecretKeyFile: "cloud.s3-secret", CAFile: srv.CAFile, MinRetentionDays: 7}}}
	cfg.Relays, cfg.Rotation.PerCycle = nil, 0
	if err := cfg.Validate(); err != nil {
		return err
	}
	g, err := gateway.Open(ctx, cfg, gateway.Options{Logger: log})
	if err != nil {
		return err
	}
	defer g.Close()
	if _, _, err := g.NewPassword("cloud"); err != nil {
		return err
	}
	if _, err := g.PrepareMedium(ctx, "cloud", false, nil); err != nil {
		return err
	}
	pw := cfg.KeyPath("cloud.restic-password")
	stock := func(args ...string) *exec.Cmd {
		cmd := exec.Command(resticBin, append([]string{"-r", "s3:https://" + srv.Endpoint + "/reference", "--cacert", srv.CAFile,
			"--password-file", pw}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+srv.SecretKey,
			"RESTIC_PROGRESS_FPS=0.1", "RESTIC_CACHE_DIR="+filepath.Join(dir, "reference-cache"))
		return cmd
	}
	if out, err := stock("init").CombinedOutput(); err != nil {
		return fmt.Errorf("reference init: %v\n%s", err, out)
	}
	src := backup.SourceDir(cfg.StagingDir, "emr")

	var rounds []round
	for i, name := range benchkit.Rounds {
		c, err := benchkit.RunRound(ctx, g, env.Export, i)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		md := c.Medium
		r := round{name: name, phases: c.Phases, powered: md.PoweredFor, added: benchkit.MB(md.Snapshots[0].DataAdded)}
		r.upload = md.PoweredFor - c.Phases["forget"] - c.Phases["check"]
		if r.stock, r.stockAd, err = benchkit.StockBackup(stock("backup", "--host", "bench", "."), src); err != nil {
			return err
		}
		rounds = append(rounds, r)
	}

	fmt.Printf("\n%-16s %8s %8s %8s %8s %8s %8s %8s\n", "round", "attach", "backup", "forget", "check", "detach", "upload", "stock")
	for _, r := range rounds {
		p := r.phases
		fmt.Printf("%-16s %7.1fs %7.1fs %7.1fs %7.1fs %7.1fs %7.1fs %7.1fs\n", r.name, (p["power-on"] + p["attach"]).Seconds(), p["backup"].Seconds(),
			p["forget"].Seconds(), p["check"].Seconds(), (p["detach"] + p["power-off"]).Seconds(), r.upload.Seconds(), r.stock.Seconds())
	}
	fmt.Println("(attach = lock verification with canary + restic unlock; detach = retention extension + the immutability record;")
	fmt.Println(" upload = the session without forget and check; stock = restic backup straight to the reference bucket)")
	for _, r := range rounds {
		ratio := r.upload.Seconds() / r.stock.Seconds()
		v := "PASS"
		if ratio > 1.05 {
			v = "MISS"
		}
		fmt.Printf("%s: upload ÷ stock = %.3f (target ≤ 1.05: %s); restic backup phase ÷ stock = %.3f; added: danzen %s, stock %s\n",
			r.name, ratio, v, r.phases["backup"].Seconds()/r.stock.Seconds(), r.added, r.stockAd)
	}
	fmt.Printf("\nloadavg at the end: %s", benchkit.LoadAvg())
	return nil
}
