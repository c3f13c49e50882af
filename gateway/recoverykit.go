package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/recoverykit"
)

// The recovery kit (package recoverykit) is refreshed on a disk and a
// bucket in every cycle and when the medium is prepared, while it is
// mounted and before it is made safe to cut. A tape gets none: it is an
// append-only row of repository archives that only a tape drive reads,
// and its file 0 (the label) is written once, so a kit there could never
// be refreshed; the recovery sheet's tape steps say to take restic from
// another medium. A kit that cannot be written never fails the backup,
// but it is recorded (ledger.KindRecoveryKit, which the page shows with
// the cycle), and alerted until a later session writes it.

// kitTimeout bounds writing the kit (about 180 MB the first time) while
// the medium is powered.
const kitTimeout = 15 * time.Minute

// kitJob writes the kit to one medium in one session; nil writes nothing
// (a restore).
type kitJob struct {
	g      *Gateway
	medium string
	use    string // "cycle" or "prepare"
	// dir is the kit's directory; locateErr says why there is none.
	dir       string
	locateErr error
	sheets    map[string][]byte
	// sheetErr: the recovery sheet could not be made; the binaries are
	// still written.
	sheetErr error
}

// kitCarrier is a drive whose medium carries the kit.
type kitCarrier interface{ setKit(*kitJob) }

func (dd *diskDrive) setKit(k *kitJob) { dd.kit = k }
func (sd *s3Drive) setKit(k *kitJob)   { sd.kit = k }

// attachKit gives drive d of medium name its kit job for the use u. The
// recovery sheet is made here, before the medium is powered: it reads the
// ledger, which must not keep a medium online.
func (g *Gateway) attachKit(d any, name string, u use) {
	kc, ok := d.(kitCarrier)
	if !ok || u.restore {
		return
	}
	dir, err := recoverykit.Locate()
	if errors.Is(err, recoverykit.ErrNotFound) && !recoverykit.OnAppliance() {
		// A bench PC without `make recovery-kit`: nothing to write, and
		// nothing a hospital's media lack.
		g.log.Warn("no recovery kit to write to the medium", "medium", name, "env", recoverykit.Env)
		return
	}
	k := &kitJob{g: g, medium: name, use: "cycle", dir: dir, locateErr: err}
	if u.prepare != nil {
		k.use = "prepare"
	}
	k.sheets, k.sheetErr = g.recoverySheets(context.Background())
	kc.setKit(k)
}

// recoverySheets renders the recovery sheet of the configuration in use,
// in Japanese and English, as the documents page does.
func (g *Gateway) recoverySheets(ctx context.Context) (map[string][]byte, error) {
	now := time.Now()
	in, err := g.Documents(ctx, now.AddDate(0, 0, -30), now)
	if err != nil {
		return nil, err
	}
	set, err := documents.Build(in)
	if err != nil {
		return nil, err
	}
	sheets := map[string][]byte{}
	for lang, name := range map[string]string{"ja": recoverykit.SheetJA, "en": recoverykit.SheetEN} {
		d, ok := set.Doc("recovery-sheet", lang)
		if !ok {
			return nil, msg.Errorf("復旧手順書(%s)がありません", "no recovery sheet (%s)", lang)
		}
		if sheets[name], err = documents.HTML(d); err != nil {
			return nil, err
		}
	}
	return sheets, nil
}

// writeKit refreshes the kit on the mounted disk (drive_disk.go's Detach).
func (dd *diskDrive) writeKit(ctx context.Context) {
	if dd.mounted != nil {
		dd.kit.write(ctx, recoverykit.DirMedium{Root: dd.mounted.Dir})
	}
}

// writeKit refreshes the kit in the bucket whose lock this session
// proved (drive_s3.go's Detach), before the lock of what it holds is
// extended, so the kit's objects are kept locked with the repository's.
func (sd *s3Drive) writeKit(ctx context.Context) {
	if sd.lockErr == nil {
		sd.kit.write(ctx, bucketKit{sd.b})
	}
}

// write puts the kit on m and records and alerts the outcome.
func (k *kitJob) write(ctx context.Context, m recoverykit.Medium) {
	if k == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, kitTimeout)
	defer cancel()
	d := ledger.RecoveryKitData{Use: k.use, Version: recoverykit.ResticVersion}
	err := func() error {
		if k.locateErr != nil {
			return k.locateErr
		}
		kit, err := recoverykit.Open(k.dir)
		if err != nil {
			return err
		}
		files := kit.Files(k.sheets)
		r, err := recoverykit.Write(ctx, m, files)
		d.Written, d.Unchanged = r.Written, len(r.Unchanged)
		if err == nil {
			d.Sums = files[len(files)-1].SHA256
		}
		return errors.Join(err, k.sheetErr)
	}()
	d.OK = err == nil
	k.g.recordKit(k.medium, d, err)
}

// recordKit writes the kit's ledger entry and raises or clears its alert.
func (g *Gateway) recordKit(medium string, d ledger.RecoveryKitData, err error) {
	now := time.Now()
	a := alert.RecoveryKitNotWritten(g.Config().GatewayID, medium, now, msg.Text{})
	if err != nil {
		err = msg.Wrap(err, "リカバリーキットを書けませんでした(バックアップ自体は有効です)",
			"recovery kit not written (the backup itself is valid)")
		g.log.Error("recovery kit not written", "medium", medium, "err", err)
		g.record(ledger.Entry{Kind: ledger.KindRecoveryKit, Medium: medium, Message: msg.TextOf(err), Payload: d})
		a.Detail = msg.TextOf(err)
		g.send(a)
		return
	}
	g.record(ledger.Entry{Kind: ledger.KindRecoveryKit, Medium: medium, Payload: d,
		Message: msg.Sprintf("リカバリーキットを確認(書き込み %d 件、変更なし %d 件)", "recovery kit checked (%d files written, %d unchanged)",
			len(d.Written), d.Unchanged)})
	g.send(a.Resolve(now))
}

// bucketKit is a bucket as a kit medium: objects danzen-recovery/<name>
// beside the repository, each carrying its SHA-256.
type bucketKit struct{ b *s3.Bucket }

func (bk bucketKit) Hash(ctx context.Context, name string) (string, error) {
	return bk.b.ObjectSHA256(ctx, path.Join(recoverykit.Dir, name))
}

func (bk bucketKit) Put(ctx context.Context, f recoverykit.File) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }() // read-only
	// The upload is checked against the kit's SHA-256 as it is read, so
	// that what the metadata claims is what was sent.
	h := sha256.New()
	ctype := "application/octet-stream"
	if path.Ext(f.Name) == ".html" {
		ctype = "text/html; charset=utf-8"
	} else if f.Name == recoverykit.SumsName {
		ctype = "text/plain; charset=utf-8"
	}
	if err := bk.b.PutObject(ctx, path.Join(recoverykit.Dir, f.Name), io.TeeReader(r, h), f.Size, f.SHA256, ctype); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return msg.Errorf("%s が送信中に変わりました(SHA-256 %s、期待 %s)", "%s changed while it was sent (SHA-256 %s, want %s)", f.Name, got, f.SHA256)
	}
	return nil
}
