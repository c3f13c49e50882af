package main

import (
	"context"
	"errors"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
)

func runPull(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("pull")
	only := fs.String("source", "", "pull only this source (default: all)")
	cfg, err := fs.load(args)
	if err != nil {
		return err
	}
	return pullSources(ctx, c, cfg, *only)
}

// pullSources pulls every source (or one) and prints a summary of each.
func pullSources(ctx context.Context, c *cli, cfg *config.Config, only string) error {
	var errs []error
	for _, src := range cfg.Sources {
		if only != "" && src.Name != only {
			continue
		}
		pr := newPullPrinter(c.out)
		m, err := pull.Run(ctx, src, pull.Options{
			Staging: cfg.StagingDir, KeyFile: cfg.KeyPath(src.KeyFile), BandwidthLimit: cfg.BandwidthLimit,
			Events: pr.event, Logger: c.log,
		})
		pr.finish()
		if m != nil {
			printManifest(c.out, m)
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

func printManifest(s *screen, m *pull.Manifest) {
	d := m.Finished.Sub(m.Started).Seconds()
	s.say(msg.Sprintf("取得元 %s (%s:%s)", "source %s (%s:%s)", m.Source, m.Host, m.ExportDir))
	s.sayf("  ", msg.Sprintf("転送: %d ファイル、%s、%.1f秒(%s/秒)", "transferred: %d files, %s in %.1fs (%s/s)",
		m.FilesTransferred, bytesize.Format(m.BytesTransferred), d, bytesize.Format(int64(m.RateBytesPerSec))))
	s.sayf("  ", msg.Sprintf("変更なし: %d、削除: %d、保持: %d ファイル、%s", "unchanged: %d, removed: %d, staged: %d files, %s",
		m.FilesUnchanged, m.FilesRemoved, len(m.Files), bytesize.Format(stagedBytes(m))))
	for _, list := range []struct {
		label msg.Text
		ps    []pull.Problem
	}{{msg.T("未完了", "pending"), m.Pending}, {msg.T("対象外", "refused"), m.Refused}, {msg.T("失敗", "failed"), m.Failed}} {
		if len(list.ps) > 0 {
			s.sayf("  ", msg.Sprintf("%s: %d", "%s: %d", list.label, len(list.ps)))
			for _, p := range list.ps {
				s.sayf("    "+p.Path+": ", p.Text)
			}
		}
	}
}

func stagedBytes(m *pull.Manifest) int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}
