package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/danzen-gw/danzen/backup"
)

// runBackup runs one real cycle from a real configuration.
func runBackup(ctx context.Context, log *slog.Logger, args []string) error {
	fs := newFlags("backup")
	once := fs.Bool("once", false, "run one cycle now and exit (the schedule is danzend's job)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if !*once {
		return usageError{"danzen backup runs one cycle: pass --once (danzend runs the schedule)"}
	}
	g, err := fs.open(ctx, log)
	if err != nil {
		return err
	}
	defer g.Close()
	rep, err := g.RunCycle(ctx, newCyclePrinter(os.Stdout).event)
	if rep != nil {
		printCycle(os.Stdout, rep)
		if err == nil && !rep.OK() {
			err = errors.New("切断を確認できない媒体があります(オフラインではありません) / a medium's cut is not verified: it is not offline")
		}
	}
	return err
}

// runMedium: `danzen medium init` prepares a freshly formatted medium.
func runMedium(ctx context.Context, log *slog.Logger, args []string) error {
	if len(args) == 0 || args[0] != "init" {
		return usageError{"usage: danzen medium init --config FILE --medium NAME [--password-recorded] [--force]"}
	}
	fs := newFlags("medium init")
	name := fs.String("medium", "", "medium name")
	recorded := fs.Bool("password-recorded", false, "confirm that the repository password is written down and stored away from the gateway")
	force := fs.Bool("force", false, "overwrite a different media ID on the disk")
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	g, err := fs.open(ctx, log)
	if err != nil {
		return err
	}
	defer g.Close()
	pw, created, err := g.NewPassword(*name)
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("媒体 %s のリポジトリパスワード / repository password of medium %s:\n\n    %s\n\n", *name, *name, pw)
		fmt.Println("このパスワードがないとバックアップは復元できません。紙に書き、ゲートウェイから離れた場所(金庫など)に保管してください。\n" +
			"Without this password the backups cannot be restored. Write it on paper and keep it away from the gateway (e.g. a safe).")
	}
	if !*recorded {
		return fmt.Errorf("パスワードを控えたら --password-recorded を付けて再実行してください / when the password is written down, run again with --password-recorded")
	}
	mr, err := g.PrepareMedium(ctx, *name, *force, newCyclePrinter(os.Stdout).event)
	printMedium(os.Stdout, mr)
	return err
}

// cyclePrinter shows a cycle's phases as lines and the pull as a bar.
type cyclePrinter struct {
	w    io.Writer
	pull *pullPrinter
	last string
}

func newCyclePrinter(w io.Writer) *cyclePrinter {
	return &cyclePrinter{w: w, pull: newPullPrinter(w, os.Stdout.Fd())}
}

func (p *cyclePrinter) event(ev backup.CycleEvent) {
	if ev.Pull != nil {
		p.pull.event(*ev.Pull)
		return
	}
	if ev.Restic != nil {
		// A restore's progress is drawn like a pull's; restic's other
		// progress is too fine for lines.
		if st := ev.Restic.Status; st != nil && ev.Restic.Op == "restore" && st.SecondsElapsed > 0 {
			p.pull.event(backup.Event{Kind: backup.EventProgress, Source: ev.Medium, BytesDone: int64(st.BytesRestored),
				BytesTotal: int64(st.TotalBytes), FilesDone: int(st.FilesRestored), FilesTotal: int(st.TotalFiles),
				Rate: float64(st.BytesRestored) / float64(st.SecondsElapsed)})
		}
		return
	}
	line := fmt.Sprintf("[%s] %s %s", ev.Medium, ev.Phase, ev.Text)
	if line != p.last {
		p.pull.finish()
		fmt.Fprintf(p.w, "%s %s\n", ev.Time.Format("15:04:05"), line)
		p.last = line
	}
}

func printCycle(w io.Writer, r *backup.CycleReport) {
	fmt.Fprintf(w, "\nサイクル / cycle %s: %s\n", r.ID, r.Finished.Sub(r.Started).Round(time.Millisecond))
	for _, m := range r.Pulls {
		printManifest(w, m)
	}
	for _, m := range r.Media {
		printMedium(w, m)
	}
	if r.OK() {
		fmt.Fprintln(w, "結果 / result: OK")
	} else {
		fmt.Fprintln(w, "結果 / result: 失敗 / FAILED")
	}
}

func printMedium(w io.Writer, m backup.MediumReport) {
	fmt.Fprintf(w, "媒体 / medium %s: 通電 / powered %.1fs\n", m.Name, m.PoweredFor.Seconds())
	for _, s := range m.Snapshots {
		fmt.Fprintf(w, "  snapshot %s (%s): %d files, %s, 追加 / added %s\n", s.ID[:min(8, len(s.ID))], s.Source, s.Files, human(s.TotalBytes), human(s.DataAdded))
	}
	switch {
	case m.CutVerified:
		fmt.Fprintln(w, "  切断を確認 / cut verified (sense OFF, device gone)")
	case m.Simulated:
		fmt.Fprintln(w, "  シミュレーション — オフラインではありません / simulated — NOT offline")
	default:
		fmt.Fprintf(w, "  切断を確認できません / cut NOT verified: %s\n", m.CutReason)
	}
	if m.Err != nil {
		fmt.Fprintf(w, "  エラー / error: %v\n", m.Err)
	}
}
