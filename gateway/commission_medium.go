package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// A medium is prepared from the page in two moves: its repository
// password is created and shown once (NewPassword), and the repository is
// created only once the person has typed back the password's last
// characters from the sheet they wrote or printed: a password nobody kept
// would make every backup on the medium unreadable.

// TypedBackLen is how many of the password's last characters the person
// types back before the repository is created.
const TypedBackLen = 8

// ErrTypedBack: the characters typed back are not the password's last
// ones; nothing was created.
var ErrTypedBack = msg.New("入力した文字がパスワードの末尾と一致しません。控えたパスワードを確かめてください(リポジトリは作成していません)",
	"the characters typed do not match the end of the password: check the password you wrote down (no repository was created)")

// checkTypedBack compares typed with the last TypedBackLen characters of
// the medium's password, in constant time.
func (g *Gateway) checkTypedBack(name, typed string) error {
	m, err := g.Config().Medium(name)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(g.Config().KeyPath(m.PasswordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return msg.Errorf("媒体 %s のパスワードがまだありません。先に作成して控えてください", "medium %s has no password yet: create it and write it down first", name)
	}
	if err != nil {
		return msg.Wrap(err, "パスワードファイルを読めません", "cannot read the password file")
	}
	pw := strings.TrimSpace(string(raw))
	typed = strings.TrimSpace(typed)
	if len(pw) < TypedBackLen || subtle.ConstantTimeCompare([]byte(typed), []byte(pw[len(pw)-TypedBackLen:])) != 1 {
		return ErrTypedBack
	}
	return nil
}

// PrepareOnPage checks the characters typed back and then prepares the
// medium (PrepareMedium), recording the outcome as the step "medium".
func (g *Gateway) PrepareOnPage(ctx context.Context, name, actor, typed string, force bool) (CommissionJob, error) {
	if err := g.checkTypedBack(name, typed); err != nil {
		return CommissionJob{}, err
	}
	g.job.Lock()
	defer g.job.Unlock()
	err := g.prepareJobLocked(ctx, name, actor, force)
	j, _ := g.CommissionJob(StepMedium, name)
	return j, err
}

// StartPrepare is PrepareOnPage in the background (the page follows it
// with CommissionJob). The typed characters are checked before it starts;
// it refuses at once if another job runs.
func (g *Gateway) StartPrepare(ctx context.Context, name, actor, typed string, force bool) error {
	if err := g.checkTypedBack(name, typed); err != nil {
		return err
	}
	if !g.job.TryLock() {
		return ErrBusy
	}
	go func() {
		defer g.job.Unlock()
		if err := g.prepareJobLocked(context.WithoutCancel(ctx), name, actor, force); err != nil {
			g.log.Error("prepare medium", "medium", name, "err", err)
		}
	}()
	return nil
}

// prepareJobLocked prepares the medium as a commissioning job; the
// caller holds the job lock.
func (g *Gateway) prepareJobLocked(ctx context.Context, name, actor string, force bool) error {
	g.setBusy(true)
	defer g.setBusy(false)
	job := g.beginJob(StepMedium, name, actor)
	job.quiet = true
	mr, err := g.prepareLocked(ctx, name, force, job.phases()) // the session's events reach the hub by themselves
	d := ledger.CommissionData{Step: StepMedium, Item: name, OK: err == nil, Detail: preparedDetail(g.Config(), name, mr, err)}
	text := msg.Sprintf("試運転: 媒体 %s のリポジトリを準備", "commissioning: medium %s prepared", name)
	if err != nil {
		text = msg.Sprintf("試運転: 媒体 %s を準備できませんでした", "commissioning: medium %s could not be prepared", name)
	}
	g.recordCommission(actor, d, text)
	job.finish(err)
	return err
}

// preparedDetail says what preparing left: the repository, what its type
// proved on the way (an S3 bucket's lock and canary, a tape's cartridge),
// and whether the medium's cut was proven.
func preparedDetail(cfg *config.Config, name string, mr backup.MediumReport, err error) msg.Text {
	if err != nil {
		return msg.TextOf(err)
	}
	out := msg.T("リポジトリを作成", "repository created")
	if m, merr := cfg.Medium(name); merr == nil {
		switch {
		case m.S3 != nil:
			out = out.Append("、", msg.T("オブジェクトロック(COMPLIANCE)を確認し、カナリアのバージョンを削除できないことを確認", "Object Lock (COMPLIANCE) verified and the canary version refused deletion"))
		case m.Tape != nil:
			out = out.Append("、", msg.T("テープに書き込んでカートリッジを取り出し", "written to the tape and the cartridge ejected"))
		}
	}
	if !mr.CutVerified {
		return out.Append("。", msg.Sprintf("切断を確認できません(オフラインではありません): %s", "cut NOT verified (not offline): %s", mr.CutReason))
	}
	return out.Append("、", msg.T("切断を確認", "cut verified"))
}

// DiscardPassword removes a medium's password file that was never used,
// so that a new one can be created and shown: for a person who lost the
// sheet before the repository was created. A password the medium may
// hold a repository under (it was ever reached or prepared) is kept: the
// backups would be lost with it.
func (g *Gateway) DiscardPassword(ctx context.Context, name, actor string) error {
	if !g.job.TryLock() {
		return ErrBusy
	}
	defer g.job.Unlock()
	m, err := g.Config().Medium(name)
	if err != nil {
		return err
	}
	used, err := ledger.Read(g.Config().LedgerDir, ledger.Filter{Medium: name,
		Kinds: []ledger.Kind{ledger.KindMount, ledger.KindSnapshot, ledger.KindDiskPrepared}})
	if err != nil {
		return err
	}
	if len(used) > 0 {
		return msg.Errorf("媒体 %s はこのパスワードで使われたことがあるため、パスワードを作り直せません(バックアップが読めなくなります)",
			"medium %s has been used with this password, so it cannot be replaced (its backups would become unreadable)", name)
	}
	if err := os.Remove(g.Config().KeyPath(m.PasswordFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return msg.Wrap(err, "パスワードファイルを削除できません", "cannot remove the password file")
	}
	return g.Record(ctx, ledger.Entry{Kind: ledger.KindSecretReplaced, Actor: actor, Medium: name,
		Message: msg.T("未使用のリポジトリパスワードを破棄(作り直しのため)", "unused repository password discarded (to be created anew)"),
		Payload: ledger.SecretReplacedData{Medium: name, File: m.PasswordFile, What: "restic_password"}})
}
