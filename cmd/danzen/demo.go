package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
)

func runDemo(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "", "working directory (default: a new temporary one)")
	dumpSize := fs.String("dump-size", "200MB", "size of the generated SQL dump")
	small := fs.Int("small-files", 300, "number of small files in the export")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	size, err := config.ParseRate(*dumpSize + "/s")
	if err != nil || size <= 0 {
		return usageError{fmt.Sprintf("--dump-size %q: use a size like 200MB", *dumpSize)}
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "danzen-demo-"); err != nil {
			return err
		}
	}
	fmt.Printf("danzen demo in %s: generating a %s e-chart export…\n", *dir, human(int64(size)))
	env, err := demo.Setup(ctx, *dir, int64(size), *small, log)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Printf("電子カルテサーバ(デモ) / e-chart server (demo): sftp://%s%s\n", env.Server.Addr, env.Export)
	if err := pullSources(ctx, log, env.Config, "", os.Stdout); err != nil {
		return err
	}
	fmt.Printf("staging: %s\nconfiguration: %s\n", env.Config.StagingDir, env.CfgPath)
	return nil
}
