package gateway

import (
	"context"
	"errors"
	"github.com/danzen-gw/danzen/internal/msg"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/s3"
)

var errLockNotVerified = errors.New("オブジェクトロックを確認する前に終了しました / the session ended before the Object Lock was verified")

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
	lockErr error // nil once Verify passed in this session
}

// Backend returns restic's environment (credentials, region) and CA file
// for the bucket.
func (d *s3Drive) Backend() ([]string, string) { return d.b.Env(), d.caPath }

func (g *Gateway) newS3Drive(m *config.Medium) (*s3Drive, error) {
	cfg := g.Config()
	ca := ""
	if m.S3.CAFile != "" {
		ca = cfg.KeyPath(m.S3.CAFile)
	}
	spec := *m.S3
	spec.Name = m.Name // messages and evidence name the medium as configured
	b, err := s3.Open(spec, s3.Options{SecretKeyPath: cfg.KeyPath(m.S3.SecretKeyFile), CAPath: ca, Logger: g.log})
	if err != nil {
		return nil, err
	}
	return &s3Drive{name: m.Name, b: b, relayed: m.Relay != "", caPath: ca, record: g.record, lockErr: errLockNotVerified,
		state: filepath.Join(cfg.StagingDir, "s3-retention", m.Name+".json")}, nil
}

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
	return sd.b.WaitUnreachable(ctx)
}

// Immutable is nil when this session proved the bucket's lock.
func (sd *s3Drive) Immutable() error { return sd.lockErr }
