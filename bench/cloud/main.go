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
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/bench/internal/benchkit"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
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

func run(d benchkit.Data) (err error) {
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
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	fmt.Printf("generating a %s dump + %d small files in %s …\n", bytesize.Format(d.DumpBytes), d.SmallFiles, dir)
	env, err := demo.Setup(ctx, demo.Options{Dir: dir, DumpBytes: d.DumpBytes, SmallFiles: d.SmallFiles, ResticBinary: resticBin}, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	srv, err := startBuckets(ctx, gw, dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.Close()) }()
	g, err := openCloudGateway(ctx, env.Config, srv, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, g.Close()) }()
	stock := stockRestic(resticBin, srv, env.Config.KeyPath("cloud.restic-password"), filepath.Join(dir, "reference-cache"))
	if out, err := stock("init").CombinedOutput(); err != nil {
		return fmt.Errorf("reference init: %v\n%s", err, out)
	}
	rounds, err := measureRounds(ctx, g, env, stock)
	if err != nil {
		return err
	}
	printRounds(rounds)
	fmt.Printf("\nloadavg at the end: %s", benchkit.LoadAvg())
	return nil
}

// startBuckets starts versitygw with two object-locked buckets: danzen's
// and the reference that stock restic writes to.
func startBuckets(ctx context.Context, gw, dir string) (*s3test.Server, error) {
	srv, err := s3test.Start(ctx, gw, filepath.Join(dir, "versitygw"))
	if err != nil {
		return nil, err
	}
	lock := &s3test.Lock{Mode: minio.Compliance, Days: 7}
	for _, b := range []string{"danzen", "reference"} {
		if err := srv.MakeBucket(ctx, b, true, lock); err != nil {
			return nil, errors.Join(err, srv.Close())
		}
	}
	return srv, nil
}

// openCloudGateway makes the S3 bucket the demo's only medium and
// prepares it.
func openCloudGateway(ctx context.Context, cfg *config.Config, srv *s3test.Server, log *slog.Logger) (*gateway.Gateway, error) {
	if err := os.WriteFile(cfg.KeyPath("cloud.s3-secret"), []byte(srv.SecretKey), 0o600); err != nil {
		return nil, err
	}
	cfg.Media = []config.Medium{{Name: "cloud", Type: config.MediumS3, PasswordFile: "cloud.restic-password",
		S3: &s3.Spec{Name: "cloud", Endpoint: srv.Endpoint, Bucket: "danzen", AccessKeyID: srv.AccessKey,
			SecretKeyFile: "cloud.s3-secret", CAFile: srv.CAFile, MinRetentionDays: 7}}}
	cfg.Relays, cfg.Rotation.PerCycle = nil, 0
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g, err := gateway.Open(ctx, cfg, gateway.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if _, _, err := g.NewPassword("cloud"); err != nil {
		return nil, errors.Join(err, g.Close())
	}
	if _, err := g.PrepareMedium(ctx, "cloud", false, nil); err != nil {
		return nil, errors.Join(err, g.Close())
	}
	return g, nil
}

// stockRestic is stock restic on the reference bucket, with the cloud
// medium's password.
func stockRestic(bin string, srv *s3test.Server, pw, cache string) func(args ...string) *exec.Cmd {
	return func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"-r", "s3:https://" + srv.Endpoint + "/reference", "--cacert", srv.CAFile,
			"--password-file", pw}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+srv.SecretKey,
			"RESTIC_PROGRESS_FPS=0.1", "RESTIC_CACHE_DIR="+cache)
		return cmd
	}
}

// measureRounds runs each round through danzen, then stock restic on the
// same staging.
func measureRounds(ctx context.Context, g *gateway.Gateway, env *demo.Env, stock func(args ...string) *exec.Cmd) ([]round, error) {
	src := pull.SourceDir(env.Config.StagingDir, "emr")
	var rounds []round
	for i, name := range benchkit.Rounds {
		c, err := benchkit.RunRound(ctx, g, env.Export, i)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		md := c.Medium
		r := round{name: name, phases: c.Phases, powered: md.PoweredFor, added: bytesize.Format(md.Snapshots[0].DataAdded)}
		r.upload = md.PoweredFor - c.Phases["forget"] - c.Phases["check"]
		if r.stock, r.stockAd, err = benchkit.StockBackup(stock("backup", "--host", "bench", "."), src); err != nil {
			return nil, err
		}
		rounds = append(rounds, r)
	}
	return rounds, nil
}

// printRounds is the table of phases and the ratio against the target.
func printRounds(rounds []round) {
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
		fmt.Printf("%s: upload ÷ stock = %.3f (target ≤ 1.05: %s); restic backup phase ÷ stock = %.3f; added: danzen %s, stock %s\n",
			r.name, ratio, benchkit.Verdict(ratio <= 1.05), r.phases["backup"].Seconds()/r.stock.Seconds(), r.added, r.stockAd)
	}
}
