package main

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/msg"
)

// runBackup runs one real cycle from a real configuration.
func runBackup(ctx context.Context, c *cli, args []string) (err error) {
	fs := newFlags("backup")
	once := fs.Bool("once", false, "run one cycle now and exit (the schedule is danzend's job)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if !*once {
		return usageError{msg.T("danzen backup は一回のサイクルを実行します: --once を付けてください(定期実行は danzend が行います)",
			"danzen backup runs one cycle: pass --once (danzend runs the schedule)")}
	}
	g, err := fs.open(ctx, c.log)
	if err != nil {
		return err
	}
	defer closeGateway(g, &err)
	c.inZone(g.Config())
	rep, err := g.RunCycle(ctx, newCyclePrinter(c.out).event)
	if rep != nil {
		printCycle(c.out, rep)
		err = cycleOutcome(rep, err)
	}
	return err
}

// cycleOutcome is the error a cycle ends the command with: a medium not
// verified offline first, then anything else that failed (exit status 1),
// then files the pulls left out (pullOutcome).
func cycleOutcome(rep *backup.CycleReport, err error) error {
	for _, m := range rep.Media {
		if !m.CutVerified && m.Err == nil {
			return msg.Join(err, msg.New("切断を確認できない媒体があります(オフラインではありません)", "a medium's cut is not verified: it is not offline"))
		}
	}
	return pullOutcome(rep.PullRecords, err)
}

// closeGateway closes g (every relay driven off and verified) and, when
// that fails, says so in *err: a relay left on is the one thing an
// operator must hear about, even after another error.
func closeGateway(g *gateway.Gateway, err *error) {
	if cerr := g.Close(); cerr != nil {
		if *err == nil {
			*err = cerr
		} else {
			*err = msg.Errorf("%w(さらに、終了時: %w)", "%w (and on closing: %w)", *err, cerr)
		}
	}
}

// runMedium: `danzen medium init` prepares a freshly formatted medium.
func runMedium(ctx context.Context, c *cli, args []string) (err error) {
	if len(args) == 0 || args[0] != "init" {
		return badUsage("medium")
	}
	fs := newFlags("medium init")
	name := fs.String("medium", "", "medium name")
	recorded := fs.Bool("password-recorded", false, "confirm that the repository password is written down and stored away from the gateway")
	force := fs.Bool("force", false, "overwrite a different media ID on the disk")
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	g, err := fs.open(ctx, c.log)
	if err != nil {
		return err
	}
	defer closeGateway(g, &err)
	c.inZone(g.Config())
	pw, created, err := g.NewPassword(*name)
	if err != nil {
		return err
	}
	if created {
		c.out.say(msg.Sprintf("媒体 %s のリポジトリパスワード:", "repository password of medium %s:", *name))
		c.out.line("\n    " + pw + "\n")
		c.out.say(msg.T("このパスワードがないとバックアップは復元できません。紙に書き、ゲートウェイから離れた場所(金庫など)に保管してください。",
			"Without this password the backups cannot be restored. Write it on paper and keep it away from the gateway (e.g. a safe)."))
	}
	if !*recorded {
		return msg.New("パスワードを控えたら --password-recorded を付けて再実行してください", "when the password is written down, run again with --password-recorded")
	}
	mr, err := g.PrepareMedium(ctx, *name, *force, newCyclePrinter(c.out).event)
	printMedium(c.out, mr)
	return err
}

// cyclePrinter shows a cycle's phases as lines and the pull as a bar.
type cyclePrinter struct {
	s    *screen
	pull *pullPrinter
	last string
}

func newCyclePrinter(s *screen) *cyclePrinter {
	return &cyclePrinter{s: s, pull: newPullPrinter(s)}
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
			p.pull.event(pull.Event{Kind: pull.EventProgress, Source: ev.Medium, BytesDone: int64(st.BytesRestored),
				BytesTotal: int64(st.TotalBytes), FilesDone: int(st.FilesRestored), FilesTotal: int(st.TotalFiles),
				Rate: float64(st.BytesRestored) / float64(st.SecondsElapsed)})
		}
		return
	}
	line := "[" + ev.Medium + "] " + ev.Phase + " " + ev.Text.Localize(p.s.lang)
	if line != p.last {
		p.pull.finish()
		p.s.line(p.s.zone.Clock(ev.Time) + " " + line)
		p.last = line
	}
}

func printCycle(s *screen, r *backup.CycleReport) {
	s.line("")
	s.say(msg.Sprintf("サイクル %s: %s", "cycle %s: %s", r.ID, r.Finished.Sub(r.Started).Round(time.Millisecond)))
	for _, m := range r.Pulls {
		printManifest(s, m)
	}
	for _, m := range r.Media {
		printMedium(s, m)
	}
	if r.OK() {
		s.say(msg.T("結果: OK", "result: OK"))
	} else {
		s.say(msg.T("結果: 失敗", "result: FAILED"))
	}
}

func printMedium(s *screen, m backup.MediumReport) {
	s.say(msg.Sprintf("媒体 %s: 通電 %.1f秒", "medium %s: powered %.1fs", m.Name, m.PoweredFor.Seconds()))
	for _, sn := range m.Snapshots {
		s.sayf("  ", msg.Sprintf("スナップショット %s (%s): %d ファイル、%s、追加 %s", "snapshot %s (%s): %d files, %s, added %s",
			sn.ID[:min(8, len(sn.ID))], sn.Source, sn.Files, bytesize.Format(sn.TotalBytes), bytesize.Format(sn.DataAdded)))
	}
	switch {
	case m.CutVerified:
		s.sayf("  ", msg.T("切断を確認(センスOFF、デバイス消失)", "cut verified (sense OFF, device gone)"))
	case m.Simulated:
		s.sayf("  ", msg.T("シミュレーション — オフラインではありません", "simulated — NOT offline"))
	default:
		s.sayf("  ", msg.Sprintf("切断を確認できません: %s", "cut NOT verified: %s", m.CutReason))
	}
	if m.Err != nil {
		s.sayf("  ", msg.Sprintf("エラー: %s", "error: %s", m.Err))
	}
}
