package gateway

import (
	"context"
	"path/filepath"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/s3"
)

var errLockNotVerified = msg.New("オブジェクトロックを確認する前に終了しました", "the session ended before the Object Lock was verified")

// s3Driver is an S3 bucket medium's driver. The bucket is opened for each
// use, not at configuration: a missing secret key fails that session, not
// the gateway's start.
type s3Driver struct {
	m   config.Medium
	env openEnv
}

var _ driver = (*s3Driver)(nil)

func openS3(env openEnv, m config.Medium) (driver, error) {
	return &s3Driver{m: m, env: env}, nil
}

func (sd *s3Driver) drive(use) (backup.Drive, error) {
	m, cfg := sd.m, sd.env.cfg
	ca := ""
	if m.S3.CAFile != "" {
		ca = cfg.KeyPath(m.S3.CAFile)
	}
	spec := *m.S3
	spec.Name = m.Name // messages and evidence name the medium as configured
	b, err := s3.Open(spec, s3.Options{SecretKeyPath: cfg.KeyPath(m.S3.SecretKeyFile), CAPath: ca, Logger: sd.env.log})
	if err != nil {
		return nil, err
	}
	return &s3Drive{name: m.Name, b: b, relayed: m.Relay != "", caPath: ca, record: sd.env.record, lockErr: errLockNotVerified,
		state: filepath.Join(cfg.StagingDir, "s3-retention", m.Name+".json")}, nil
}

// recover: a bucket has nothing mounted on the gateway.
func (sd *s3Driver) recover(context.Context) (bool, error) { return false, nil }

// goneAtStart: a bucket has no device; it is offline by its lock, proven
// in each session.
func (sd *s3Driver) goneAtStart(context.Context) (bool, error) { return false, nil }

// s3Drive adapts an S3 bucket to backup.Drive. "Attached" means the bucket
// was proven immutable for this session; with an uplink relay it also
// means the endpoint became reachable, and "gone" that it no longer is.
type s3Drive struct {
	name    string
	b       *s3.Bucket
	relayed bool
	caPath  string
	state   string // retention state file on staging
	record  func(ledger.Entry)
	lockErr error   // nil once Verify passed in this session
	kit     *kitJob // recoverykit.go
}

var (
	_ backup.Drive              = (*s3Drive)(nil)
	_ backup.ImmutabilityProver = (*s3Drive)(nil)
	_ backendDrive              = (*s3Drive)(nil)
)

// Backend returns restic's environment (credentials, region) and CA file
// for the bucket.
func (sd *s3Drive) Backend() ([]string, string) { return sd.b.Env(), sd.caPath }

func (sd *s3Drive) BeforePowerOn() error {
	sd.lockErr = errLockNotVerified
	return nil
}

// Attach waits for the uplink (if it is on a relay) and verifies the
// bucket's lock before anything is written; a bucket that fails is never
// written to.
func (sd *s3Drive) Attach(ctx context.Context) (string, error) {
	if sd.relayed {
		if err := sd.b.WaitReachable(ctx); err != nil {
			sd.lockErr = err
			return "", err
		}
	}
	ev, err := sd.b.Verify(ctx)
	sd.lockErr = err
	if err != nil {
		sd.record(ledger.Entry{Kind: ledger.KindLockFailed, Medium: sd.name, Message: msg.TextOf(err), Payload: ev})
		return "", err
	}
	sd.record(ledger.Entry{Kind: ledger.KindLockVerified, Medium: sd.name,
		Message: msg.T("オブジェクトロックを確認", "Object Lock verified"), Payload: ev})
	return sd.b.Spec().Location(), nil
}

// Detach keeps what the repository holds locked for another retention
// period (see s3.Bucket.KeepLocked).
func (sd *s3Drive) Detach(ctx context.Context) error {
	sd.writeKit(ctx)
	if sd.lockErr != nil {
		return nil
	}
	n, err := sd.b.KeepLocked(ctx, sd.state)
	if n > 0 || err != nil {
		text := msg.Sprintf("%d 件の保持期間を延長", "retention extended for %d objects", n)
		if err != nil {
			text = msg.TextOf(err)
		}
		sd.record(ledger.Entry{Kind: ledger.KindLockExtended, Medium: sd.name, Message: text,
			Payload: ledger.LockExtendedData{Extended: n, OK: err == nil}})
	}
	return err
}

// WaitGone: with an uplink relay, the endpoint must become unreachable.
// Without one it is never called (the session has no switch).
func (sd *s3Drive) WaitGone(ctx context.Context) error {
	if !sd.relayed {
		return nil
	}
	err := sd.b.WaitUnreachable(ctx)
	if err == nil && ctx.Err() != nil {
		// A dial refused because the wait was cancelled looks just like a
		// line that is down: it proves nothing.
		return msg.Errorf("回線 %s の切断確認を中断しました(オフライン未確認): %w",
			"verifying that the uplink of %s is cut was interrupted (not verified offline): %w", sd.name, ctx.Err())
	}
	return err
}

// Immutable is nil when this session proved the bucket's lock.
func (sd *s3Drive) Immutable() error { return sd.lockErr }
