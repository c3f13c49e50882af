package backup

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
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
func SendBack(ctx context.Context, t config.RestoreTarget, keyFile, dir, name string, events func(pull.Event)) (SendBackResult, error) {
	res := SendBackResult{Dir: path.Join(t.BaseDir, name)}
	c, err := openSendBack(ctx, t, keyFile, name)
	if err != nil {
		return res, err
	}
	// Every file was closed and its size checked on the server; how the
	// session ends adds nothing.
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() }) // interrupts the copy; it then fails
	defer stop()
	partial := PartialDir(res.Dir)
	if err := c.SFTP().Mkdir(partial); err != nil {
		return res, msg.Errorf("電子カルテサーバ %[3]s に書き戻し先 %[1]s を作成できません(書き込み用アカウントの権限を確認してください): %[2]w",
			"cannot create %[1]s on %[3]s (check the write account's permissions): %[2]w", partial, err, t.Host)
	}
	local := filepath.Join(dir, "data")
	total := treeSize(local)
	emit := func(ev pull.Event) {
		ev.Time, ev.Source, ev.BytesTotal = time.Now(), t.Name, total
		if events != nil {
			events(ev)
		}
	}
	if err := sendTree(ctx, c.SFTP(), local, partial, &res, emit); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return res, msg.Errorf("電子カルテサーバ %s への書き戻しが途中で失敗しました(不完全な %[3]s に %[2]d 件まで書き込み済み): %[4]w",
			"sending back to %s failed part-way (%d files written in the incomplete %s): %w", t.Host, res.Files, partial, err)
	}
	if err := c.SFTP().Rename(partial, res.Dir); err != nil {
		return res, msg.Errorf("書き戻しは完了しましたが、電子カルテサーバ %[3]s で %[1]s を %[2]s に改名できません: %[4]w",
			"every file was sent, but %s could not be renamed to %s on %s: %w", partial, res.Dir, t.Host, err)
	}
	emit(pull.Event{Kind: pull.EventDone, BytesDone: res.Bytes, FilesDone: res.Files, Message: msg.Plain(res.Dir)})
	return res, nil
}

// treeSize is the size of the regular files below dir, for progress
// only: the copy itself meets and reports every error.
func treeSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

// sendTree copies the tree below local into remote, which exists, and
// counts what it wrote in res.
func sendTree(ctx context.Context, c *sftp.Client, local, remote string, res *SendBackResult, emit func(pull.Event)) error {
	return filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
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
		dst := path.Join(remote, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return c.Mkdir(dst)
		case !d.Type().IsRegular():
			return msg.Errorf("%s: 通常ファイルではありません", "%s: not a regular file", rel)
		}
		n, err := put(c, p, dst)
		if err != nil {
			return msg.Errorf("%s: %w", "%s: %w", rel, err)
		}
		res.Files++
		res.Bytes += n
		emit(pull.Event{Kind: pull.EventFileDone, File: filepath.ToSlash(rel), BytesDone: res.Bytes, FilesDone: res.Files})
		return nil
	})
}

// CheckSendBack connects to the target and checks that name is free, so a
// restore meant for the e-chart server is refused before a medium is
// powered for it.
func CheckSendBack(ctx context.Context, t config.RestoreTarget, keyFile, name string) error {
	c, err := openSendBack(ctx, t, keyFile, name)
	if err == nil {
		_ = c.Close() // only looked: nothing was written
	}
	return err
}

// openSendBack checks name, connects, and checks that neither the folder
// nor an interrupted send-back's PartialDir of it exists.
func openSendBack(ctx context.Context, t config.RestoreTarget, keyFile, name string) (*pull.Conn, error) {
	if !validRemoteName.MatchString(name) || strings.HasSuffix(name, PartialSuffix) {
		return nil, msg.Errorf("書き戻し先のフォルダ名 %q が不正です(英数字・「.」「_」「-」、128文字以内、末尾 .partial は不可)",
			"invalid folder name %q for the send-back (letters, digits, '.', '_', '-', up to 128, not ending in .partial)", name)
	}
	c, err := pull.Connect(ctx, t.SSH(), keyFile)
	var hk *pull.HostKeyError
	if errors.As(err, &hk) {
		hk.Target = true
	}
	if err != nil {
		return nil, err
	}
	dir := path.Join(t.BaseDir, name)
	for _, p := range []string{dir, PartialDir(dir)} {
		if err := checkFree(c.SFTP(), t.Host, p); err != nil {
			_ = c.Close() // only looked: nothing was written
			return nil, err
		}
	}
	return c, nil
}

// checkFree says why p on host cannot be a send-back's folder: it exists,
// or nobody can tell.
func checkFree(c *sftp.Client, host, p string) error {
	_, err := c.Lstat(p)
	switch {
	case err == nil:
		return msg.Errorf("電子カルテサーバ %[2]s に書き戻し先 %[1]s は既にあります(%[3]s で終わるものは中断した書き戻しの残りです)。上書きはしません。別の名前を指定してください",
			"%s already exists on %s (a name ending in %s is what an interrupted send-back left): a send-back never overwrites; name a new folder",
			p, host, PartialSuffix)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return msg.Errorf("電子カルテサーバ %[2]s の書き戻し先 %[1]s を確認できません: %[3]w", "cannot check %s on %s: %w", p, host, err)
}

// put writes one local file to remote (a new file) and checks the size
// the server reports once it is closed.
func put(c *sftp.Client, local, remote string) (int64, error) {
	lf, err := os.Open(local)
	if err != nil {
		return 0, err
	}
	defer func() { _ = lf.Close() }() // read-only
	fi, err := lf.Stat()
	if err != nil {
		return 0, err
	}
	rf, err := c.OpenFile(remote, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(rf, lf)
	if err == nil {
		if _, ok := c.HasExtension("fsync@openssh.com"); ok {
			err = rf.Sync()
		}
	}
	if cerr := rf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	st, err := c.Stat(remote)
	if err != nil {
		return n, err
	}
	if st.Size() != fi.Size() || n != fi.Size() {
		return n, msg.Errorf("サーバ上のサイズ %d が元の %d と一致しません", "the server has %d bytes, the file has %d", st.Size(), fi.Size())
	}
	return n, nil
}
