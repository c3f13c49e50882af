package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
)

// validRemoteName is the directory an operator names for a send-back: one
// path element, so it always lands inside the target's base directory.
var validRemoteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// PartialSuffix marks the folder a send-back writes into; it is renamed
// to the requested name only when every file is written and checked, so
// what sits under the requested name on the e-chart side is always whole.
// A folder with this suffix is what an interrupted send-back left.
const PartialSuffix = ".partial"

// SendBackResult is what SendBack wrote.
type SendBackResult struct {
	Dir   string // remote directory
	Files int
	Bytes int64
}

// PartialDir is where a send-back into dir writes until it is complete.
func PartialDir(dir string) string { return dir + PartialSuffix }

// SendBack copies the files of a verified restore (dir/data) to a
// write-enabled account on the e-chart side, into BaseDir/name, which
// must not exist yet: a send-back never overwrites what is on the server.
// Every file's size on the server is compared with the local one after it
// is written and closed, so a short write cannot pass unnoticed. Files go
// to PartialDir first, renamed to the requested name once all are there.
func SendBack(ctx context.Context, t config.RestoreTarget, keyFile, dir, name string, events func(Event)) (SendBackResult, error) {
	res := SendBackResult{Dir: path.Join(t.BaseDir, name)}
	c, err := openSendBack(ctx, t, keyFile, name)
	if err != nil {
		return res, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	partial := PartialDir(res.Dir)
	if err := c.sftp.Mkdir(partial); err != nil {
		return res, fmt.Errorf("書き戻し先 %s を作成できません(書き込み用アカウントの権限を確認してください) / cannot create %s on %s (check the write account's permissions): %w", partial, partial, t.Host, err)
	}
	local := filepath.Join(dir, "data")
	var total int64
	filepath.WalkDir(local, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	emit := func(ev Event) {
		ev.Time, ev.Source, ev.BytesTotal = time.Now(), t.Name, total
		if events != nil {
			events(ev)
		}
	}
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, err := filepath.Rel(local, p)
		if err != nil || rel == "." {
			return err
		}
		remote := path.Join(partial, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return c.sftp.Mkdir(remote)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: 通常ファイルではありません / not a regular file", rel)
		}
		n, err := c.put(p, remote)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		res.Files++
		res.Bytes += n
		emit(Event{Kind: EventFileDone, File: filepath.ToSlash(rel), BytesDone: res.Bytes, FilesDone: res.Files})
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return res, fmt.Errorf("電子カルテサーバ %s への書き戻しが途中で失敗しました(不完全な %s に %d 件まで書き込み済み) / sending back to %s failed part-way (%d files written in the incomplete %s): %w",
			t.Host, partial, res.Files, t.Host, res.Files, partial, err)
	}
	if err := c.sftp.Rename(partial, res.Dir); err != nil {
		return res, fmt.Errorf("書き戻しは完了しましたが %s を %s に改名できません / every file was sent, but %s could not be renamed to %s on %s: %w",
			partial, res.Dir, partial, res.Dir, t.Host, err)
	}
	emit(Event{Kind: EventPullDone, BytesDone: res.Bytes, FilesDone: res.Files, Message: res.Dir})
	return res, nil
}

// CheckSendBack connects to the target and checks that name is free, so a
// restore meant for the e-chart server is refused before a medium is
// powered for it.
func CheckSendBack(ctx context.Context, t config.RestoreTarget, keyFile, name string) error {
	c, err := openSendBack(ctx, t, keyFile, name)
	if err == nil {
		c.Close()
	}
	return err
}

// openSendBack checks name, connects, and checks that neither the folder
// nor an interrupted send-back's PartialDir of it exists.
func openSendBack(ctx context.Context, t config.RestoreTarget, keyFile, name string) (*conn, error) {
	if !validRemoteName.MatchString(name) || strings.HasSuffix(name, PartialSuffix) {
		return nil, fmt.Errorf("書き戻し先のフォルダ名 %q が不正です(英数字・「.」「_」「-」、128文字以内、末尾 .partial は不可) / invalid folder name %q for the send-back (letters, digits, '.', '_', '-', up to 128, not ending in .partial)", name, name)
	}
	src := t.SSH()
	signer, err := loadSigner(keyFile)
	if err != nil {
		return nil, err
	}
	addr := sourceAddr(&src)
	cfg, err := sshClientConfig(&src, signer, addr)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, cfg, addr)
	if err != nil {
		return nil, err
	}
	dir := path.Join(t.BaseDir, name)
	for _, p := range []string{dir, PartialDir(dir)} {
		if _, err := c.sftp.Lstat(p); err == nil {
			c.Close()
			return nil, fmt.Errorf("書き戻し先 %s は既にあります(%s で終わるものは中断した書き戻しの残りです)。上書きはしません。別の名前を指定してください / %s already exists on %s (a name ending in %s is what an interrupted send-back left): a send-back never overwrites; name a new folder",
				p, PartialSuffix, p, t.Host, PartialSuffix)
		} else if !errors.Is(err, fs.ErrNotExist) {
			c.Close()
			return nil, fmt.Errorf("書き戻し先 %s を確認できません / cannot check %s on %s: %w", p, p, t.Host, err)
		}
	}
	return c, nil
}

// put writes one local file to remote (a new file) and checks the size
// the server reports once it is closed.
func (c *conn) put(local, remote string) (int64, error) {
	lf, err := os.Open(local)
	if err != nil {
		return 0, err
	}
	defer lf.Close()
	fi, err := lf.Stat()
	if err != nil {
		return 0, err
	}
	rf, err := c.sftp.OpenFile(remote, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(rf, lf)
	if err == nil {
		if _, ok := c.sftp.HasExtension("fsync@openssh.com"); ok {
			err = rf.Sync()
		}
	}
	if cerr := rf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	st, err := c.sftp.Stat(remote)
	if err != nil {
		return n, err
	}
	if st.Size() != fi.Size() || n != fi.Size() {
		return n, fmt.Errorf("サーバ上のサイズ %d が元の %d と一致しません / the server has %d bytes, the file has %d", st.Size(), fi.Size(), st.Size(), fi.Size())
	}
	return n, nil
}
