package main

import (
	"context"
	"strings"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
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
// The error's exit status says whether files were left out (pullOutcome).
func pullSources(ctx context.Context, c *cli, cfg *config.Config, only string) error {
	var errs []error
	var recs []ledger.PullData
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
		recs = append(recs, backup.PullRecord("", src.Name, m, err))
		if err != nil {
			errs = append(errs, err)
		}
	}
	if only != "" && len(errs) == 0 {
		if _, err := cfg.Source(only); err != nil {
			return err
		}
	}
	return pullOutcome(recs, msg.Join(errs...))
}

// Exit statuses of a pull that ran to its end but did not take the whole
// export (README, "Exit status"); 1 is any other failure, 2 a mistake in
// the invocation.
const (
	exitLeftOut       = 3 // files were left out (refused, not complete, changed during transfer)
	exitNothingPulled = 4 // an export held no complete file: nothing of it was pulled
)

// exitError is an outcome with its own exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string              { return e.err.Error() }
func (e *exitError) Localize(l msg.Lang) string { return msg.In(e.err, l) }
func (e *exitError) Unwrap() error              { return e.err }

// pullOutcome gives err (the pulls' errors, joined) the exit status of
// what recs left out, unless err holds another failure: that one is
// reported as it is (exit status 1).
func pullOutcome(recs []ledger.PullData, err error) error {
	if err != nil && !onlyLeftOut(err) {
		return err
	}
	var empty []string
	left := 0
	for _, d := range recs {
		if backup.NothingPulled(d) {
			empty = append(empty, d.Source)
		}
		left += backup.LeftOutTotal(d)
	}
	switch {
	case len(empty) > 0:
		return &exitError{code: exitNothingPulled, err: msg.Join(err, msg.Errorf(
			"取得元 %s のエクスポートに完了したファイルがなく、何も取得していません",
			"nothing pulled: the export of source %s held no complete file", strings.Join(empty, ", ")))}
	case left > 0:
		return &exitError{code: exitLeftOut, err: msg.Join(err, msg.Errorf(
			"取得していないファイル: %d 件(理由は上の一覧)", "files left out: %d (listed above, with why)", left))}
	}
	return err
}

// onlyLeftOut reports whether err holds nothing but pulls that ran to
// their end and left files out.
func onlyLeftOut(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyLeftOut(e) {
				return false
			}
		}
		return true
	}
	_, ok := err.(*pull.IncompleteError)
	return ok
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
