package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/restic"
	"github.com/danzen-gw/danzen/internal/msg"
)

// NewPassword creates a medium's repository password file (32 random
// bytes, 0600) and returns the password so that it can be shown once and
// written down: losing it loses the backups. An existing file is kept and
// created is false and nothing is returned.
func (g *Gateway) NewPassword(name string) (password string, created bool, err error) {
	m, err := g.Config().Medium(name)
	if err != nil {
		return "", false, err
	}
	p := g.Config().KeyPath(m.PasswordFile)
	if _, err := os.Stat(p); err == nil {
		return "", false, nil // never shown twice
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, err
	}
	pw := base64.RawURLEncoding.EncodeToString(raw[:])
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, msg.Errorf("パスワードファイルを作成できません: %w", "cannot create the password file: %w", err)
	}
	_, err = f.WriteString(pw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A half-written file would pass for a password nobody was shown.
		return "", false, errors.Join(msg.Errorf("パスワードファイルを書き込めません: %w", "cannot write the password file: %w", err), os.Remove(p))
	}
	return pw, true, nil
}

// PrepareMedium sets up a freshly formatted (ext4) medium: powers it on,
// writes its media ID, creates its restic repository, and cuts it again
// with the usual verification. The password file must exist (NewPassword).
// A medium that already holds a repository is left as it is.
func (g *Gateway) PrepareMedium(ctx context.Context, name string, force bool, events func(backup.CycleEvent)) (backup.MediumReport, error) {
	g.job.Lock()
	defer g.job.Unlock()
	return g.prepareLocked(ctx, name, force, events)
}

// prepareLocked is PrepareMedium; the caller holds the job lock.
func (g *Gateway) prepareLocked(ctx context.Context, name string, force bool, events func(backup.CycleEvent)) (backup.MediumReport, error) {
	m, err := g.Config().Medium(name)
	if err != nil {
		return backup.MediumReport{}, err
	}
	if _, err := os.Stat(g.Config().KeyPath(m.PasswordFile)); err != nil {
		return backup.MediumReport{}, msg.Errorf("媒体 %s のパスワードファイルがありません。先にパスワードを作成し、控えてください: %w", "medium %s has no password file yet: create it and write it down first: %w", name, err)
	}
	t, err := g.target(name, use{prepare: &prepareOpts{force: force}})
	if err != nil {
		return backup.MediumReport{}, err
	}
	c := g.cycle(events)
	mr := c.Session(ctx, t, func(ctx context.Context, rp restic.Repo) error {
		if _, err := rp.Snapshots(ctx); err == nil {
			return nil // already a repository with this password
		} else if !errors.Is(err, restic.ErrRepoMissing) {
			return err
		}
		return rp.Init(ctx)
	})
	if mr.Err != nil {
		return mr, mr.Err
	}
	return mr, nil
}
