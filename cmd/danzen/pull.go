package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
)

func runPull(ctx context.Context, log *slog.Logger, args []string) error {
	fs := newFlags("pull")
	only := fs.String("source", "", "pull only this source (default: all)")
	cfg, err := fs.load(args)
	if err != nil {
		return err
	}
	return pullSources(ctx, log, cfg, *only, os.Stdout)
}

// pullSources pulls every source (or one) and prints a summary of each.
func pullSources(ctx context.Context, log *slog.Logger, cfg *config.Config, only string, out io.Writer) error {
	var errs []error
	for _, src := range cfg.Sources {
		if only != "" && src.Name != only {
			continue
		}
		pr := newPullPrinter(out, os.Stdout.Fd())
		m, err := backup.Pull(ctx, src, backup.PullOptions{
			Staging: cfg.StagingDir, KeyFile: cfg.KeyPath(src.KeyFile), BandwidthLimit: cfg.BandwidthLimit,
			Events: pr.event, Logger: log,
		})
		pr.finish()
		if m != nil {
			printManifest(out, m)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if only != "" && len(errs) == 0 {
		if _, err := cfg.Source(only); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func printManifest(w io.Writer, m *backup.Manifest) {
	d := m.Finished.Sub(m.Started).Seconds()
	fmt.Fprintf(w, "取得元 / source %s (%s:%s)\n", m.Source, m.Host, m.ExportDir)
	fmt.Fprintf(w, "  転送 / transferred: %d files, %s in %.1fs (%s/s)\n", m.FilesTransferred, human(m.BytesTransferred), d, human(int64(m.RateBytesPerSec)))
	fmt.Fprintf(w, "  変更なし / unchanged: %d, 削除 / removed: %d, 保持 / staged: %d files, %s\n", m.FilesUnchanged, m.FilesRemoved, len(m.Files), human(stagedBytes(m)))
	for _, list := range []struct {
		label string
		ps    []backup.Problem
	}{{"未完了 / pending", m.Pending}, {"対象外 / refused", m.Refused}, {"失敗 / failed", m.Failed}} {
		if len(list.ps) > 0 {
			fmt.Fprintf(w, "  %s: %d\n", list.label, len(list.ps))
			for _, p := range list.ps {
				fmt.Fprintf(w, "    %s\n", p)
			}
		}
	}
}

func stagedBytes(m *backup.Manifest) int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}
