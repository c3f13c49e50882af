package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// runRestore: `danzen restore` restores a snapshot from a medium.
func runRestore(ctx context.Context, c *cli, args []string) (err error) {
	fs := newFlags("restore")
	medium := fs.String("medium", "", "medium to restore from (required)")
	snapshot := fs.String("snapshot", "latest", "snapshot ID, or latest")
	source := fs.String("source", "", "with latest: the newest snapshot of this source")
	target := fs.String("to-target", "", "send the verified files back to this configured restore target")
	dir := fs.String("to-dir", "", "with --to-target: the new folder below the target's base directory")
	within := fs.Duration("deadline", 0, "cut the medium after this long at the latest (default: the configured restore window)")
	list := fs.Bool("list", false, "list the snapshots on the medium (from the evidence ledger) and exit")
	var files stringList
	fs.Var(&files, "file", "restore only this export path (repeatable)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *medium == "" {
		return usageError{msg.T("--medium を指定してください", "--medium is required")}
	}
	g, err := fs.open(ctx, c.log)
	if err != nil {
		return err
	}
	defer closeGateway(g, &err)
	c.inZone(g.Config())
	if *list {
		return listSnapshots(c.out, g, *medium)
	}
	o := gateway.RestoreOptions{Medium: *medium, Snapshot: *snapshot, Source: *source, Files: files,
		Target: *target, TargetDir: *dir, Actor: "cli:" + osUser()}
	if *within > 0 {
		o.Deadline = time.Now().Add(*within)
	}
	rep, err := g.Restore(ctx, o, newCyclePrinter(c.out).event)
	if rep != nil {
		printRestore(c.out, rep)
		if err == nil && o.Target == "" {
			c.out.say(msg.Sprintf("復元先: %s", "restored into: %s", g.RestoreArea()+"/"+rep.ID))
		}
	}
	return err
}

// listSnapshots prints the snapshots the ledger knows on medium.
func listSnapshots(s *screen, g *gateway.Gateway, medium string) error {
	snaps, err := g.Snapshots(medium)
	if err != nil {
		return err
	}
	head := msg.T("日時", "time").Localize(s.lang)
	src := msg.T("取得元", "source").Localize(s.lang)
	s.line(fmt.Sprintf("%-10s %-23s %-12s %8s %10s", "snapshot", head, src, "files", "size"))
	for _, sn := range snaps {
		s.line(fmt.Sprintf("%-10s %-23s %-12s %8d %10s", sn.ID[:min(8, len(sn.ID))], s.zone.Stamp(sn.Time), sn.Source, sn.Files, bytesize.Format(sn.Bytes)))
	}
	return nil
}

// runDrill: `danzen drill` runs a restore drill now.
func runDrill(ctx context.Context, c *cli, args []string) (err error) {
	fs := newFlags("drill")
	medium := fs.String("medium", "", "medium to drill (default: the one drilled longest ago)")
	list := fs.Bool("list", false, "list the drill records (訓練記録) and exit")
	if err := fs.parse(args); err != nil {
		return err
	}
	g, err := fs.open(ctx, c.log)
	if err != nil {
		return err
	}
	defer closeGateway(g, &err)
	c.inZone(g.Config())
	if *list {
		drills, err := g.Drills()
		if err != nil {
			return err
		}
		for _, d := range drills {
			printRecord(c.out, d)
		}
		return nil
	}
	rep, err := g.Drill(ctx, *medium, "cli:"+osUser(), newCyclePrinter(c.out).event)
	if rep != nil {
		printRestore(c.out, rep)
	}
	return err
}

func printRestore(s *screen, r *backup.RestoreReport) {
	s.line("")
	printMedium(s, r.Medium)
	printRecord(s, r.RestoreData)
}

// printRecord prints a restore or drill record, as the ledger keeps it.
func printRecord(s *screen, d ledger.RestoreData) {
	what := msg.T("復元", "restore")
	if d.Drill {
		what = msg.T("復元訓練", "drill")
	}
	result := msg.Plain("OK")
	if !d.OK {
		result = msg.T("失敗", "FAILED")
	}
	ms := func(v int64) string {
		return (time.Duration(v) * time.Millisecond).Round(100 * time.Millisecond).String()
	}
	s.say(msg.Sprintf("%s %s %s: %s", "%s %s %s: %s", what, d.ID, s.zone.Stamp(d.Started), result))
	s.sayf("  ", msg.Sprintf("媒体 %s、スナップショット %s (%s, %s)", "medium %s, snapshot %s (%s, %s)", d.Medium, d.Snapshot, d.Source, s.zone.Stamp(d.SnapTime)))
	s.sayf("  ", msg.Sprintf("照合 %d/%d ファイル、%s", "verified %d/%d files, %s", d.FilesVerified, d.Files, bytesize.Format(d.Bytes)))
	s.sayf("  ", msg.Sprintf("通電まで %s、最初のバイト %s、復元完了(RTO) %s、切断まで %s", "attached %s, first byte %s, restored %s, cut %s",
		ms(d.PowerOnMS), ms(d.FirstByteMS), ms(d.RestoreMS), ms(d.TotalMS)))
	if d.CheckRan {
		check := msg.Plain("OK")
		if !d.CheckOK {
			check = msg.T("失敗", "FAILED")
		}
		s.sayf("  restic check --read-data: ", check)
	}
	if len(d.Damaged) > 0 {
		s.sayf("  ", msg.Sprintf("破損の影響: %s", "damaged snapshots: %s", strings.Join(d.Damaged, ", ")))
	}
	for _, m := range d.Mismatches {
		s.sayf("  ", msg.Sprintf("不一致: %s", "mismatch: %s", m))
	}
	if !d.Error.IsZero() {
		s.sayf("  ", msg.Sprintf("エラー: %s", "error: %s", d.Error))
	}
}

func osUser() string {
	if u := os.Getenv("SUDO_USER"); u != "" {
		return u
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}
