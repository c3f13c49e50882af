package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/ledger"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// runRestore: `danzen restore` restores a snapshot from a medium.
func runRestore(ctx context.Context, log *slog.Logger, args []string) error {
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
		return usageError{"--medium を指定してください / --medium is required"}
	}
	g, err := fs.open(ctx, log)
	if err != nil {
		return err
	}
	defer g.Close()
	if *list {
		snaps, err := g.Snapshots(*medium)
		if err != nil {
			return err
		}
		fmt.Printf("%-10s %-19s %-12s %8s %10s\n", "snapshot", "日時 / time", "取得元 / src", "files", "size")
		for _, s := range snaps {
			fmt.Printf("%-10s %-19s %-12s %8d %10s\n", s.ID[:min(8, len(s.ID))], s.Time.Local().Format(time.DateTime), s.Source, s.Files, human(s.Bytes))
		}
		return nil
	}
	o := gateway.RestoreOptions{Medium: *medium, Snapshot: *snapshot, Source: *source, Files: files,
		Target: *target, TargetDir: *dir, Actor: "cli:" + osUser()}
	if *within > 0 {
		o.Deadline = time.Now().Add(*within)
	}
	rep, err := g.Restore(ctx, o, newCyclePrinter(os.Stdout).event)
	if rep != nil {
		printRestore(os.Stdout, rep)
		if err == nil && o.Target == "" {
			fmt.Printf("復元先 / restored into: %s\n", g.RestoreArea()+"/"+rep.ID)
		}
	}
	return err
}

// runDrill: `danzen drill` runs a restore drill now.
func runDrill(ctx context.Context, log *slog.Logger, args []string) error {
	fs := newFlags("drill")
	medium := fs.String("medium", "", "medium to drill (default: the one drilled longest ago)")
	list := fs.Bool("list", false, "list the drill records (訓練記録) and exit")
	if err := fs.parse(args); err != nil {
		return err
	}
	g, err := fs.open(ctx, log)
	if err != nil {
		return err
	}
	defer g.Close()
	if *list {
		drills, err := g.Drills()
		if err != nil {
			return err
		}
		for _, d := range drills {
			printRecord(os.Stdout, d)
		}
		return nil
	}
	rep, err := g.Drill(ctx, *medium, "cli:"+osUser(), newCyclePrinter(os.Stdout).event)
	if rep != nil {
		printRestore(os.Stdout, rep)
	}
	return err
}

func printRestore(w io.Writer, r *backup.RestoreReport) {
	fmt.Fprintln(w)
	printMedium(w, r.Medium)
	printRecord(w, r.RestoreData)
}

// printRecord prints a restore or drill record, as the ledger keeps it.
func printRecord(w io.Writer, d ledger.RestoreData) {
	what := "復元 / restore"
	if d.Drill {
		what = "復元訓練 / drill"
	}
	result := "OK"
	if !d.OK {
		result = "失敗 / FAILED"
	}
	ms := func(v int64) string {
		return (time.Duration(v) * time.Millisecond).Round(100 * time.Millisecond).String()
	}
	fmt.Fprintf(w, "%s %s %s: %s\n", what, d.ID, d.Started.Local().Format(time.DateTime), result)
	fmt.Fprintf(w, "  媒体 / medium %s, snapshot %s (%s, %s)\n", d.Medium, d.Snapshot, d.Source, d.SnapTime.Local().Format(time.DateTime))
	fmt.Fprintf(w, "  照合 / verified %d/%d files, %s\n", d.FilesVerified, d.Files, human(d.Bytes))
	fmt.Fprintf(w, "  通電まで / attached %s, 最初のバイト / first byte %s, 復元完了(RTO) / restored %s, 切断まで / cut %s\n",
		ms(d.PowerOnMS), ms(d.FirstByteMS), ms(d.RestoreMS), ms(d.TotalMS))
	if d.CheckRan {
		fmt.Fprintf(w, "  restic check --read-data: %v\n", map[bool]string{true: "OK", false: "失敗 / FAILED"}[d.CheckOK])
	}
	if len(d.Damaged) > 0 {
		fmt.Fprintf(w, "  破損の影響 / damaged snapshots: %s\n", strings.Join(d.Damaged, ", "))
	}
	for _, m := range d.Mismatches {
		fmt.Fprintf(w, "  不一致 / mismatch: %s\n", m)
	}
	if !d.Error.IsZero() {
		fmt.Fprintf(w, "  エラー / error: %s\n", d.Error)
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
