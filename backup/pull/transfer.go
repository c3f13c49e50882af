package pull

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

const (
	// chunkSize is one ranged read. Big files are read as chunks spread
	// over every connection (one SSH connection saturates one sshd core),
	// then written and hashed in order.
	chunkSize = 8 << 20
	// inflightBytes bounds the memory held by reads not yet written.
	inflightBytes = 64 << 20
	// checkpointEvery is how often a long transfer makes its partial file
	// durable and records where to resume.
	checkpointEvery = 64 << 20
)

// errChanged marks a file that changed while it was read.
var errChanged = msg.New("転送中にファイルが変わりました", "file changed during transfer")

// engine moves files from the export into staging.
type engine struct {
	conns     []*Conn
	rr        atomic.Uint32
	exportDir string
	dataRoot  string
	partRoot  string
	budget    *semaphore.Weighted
	limiter   *rate.Limiter // nil: no cap
	bufs      sync.Pool
	done      atomic.Int64 // bytes transferred this pull, for progress
	emit      func(Event)
}

func newEngine(conns []*Conn, exportDir, dataRoot, partRoot string, limit int64, emit func(Event)) *engine {
	e := &engine{conns: conns, exportDir: exportDir, dataRoot: dataRoot, partRoot: partRoot,
		budget: semaphore.NewWeighted(inflightBytes), emit: emit}
	if limit > 0 {
		e.limiter = rate.NewLimiter(rate.Limit(limit), chunkSize)
	}
	e.bufs.New = func() any { b := make([]byte, chunkSize); return &b }
	return e
}

func (e *engine) pick() *sftp.Client {
	return e.conns[int(e.rr.Add(1))%len(e.conns)].sftp
}

// resumeState is written beside a partial file at each checkpoint. It
// holds the SHA-256 state, so a resumed transfer never re-reads the data
// it already has.
type resumeState struct {
	Size      int64     `json:"remote_size"`
	MTime     time.Time `json:"remote_mtime"`
	Offset    int64     `json:"offset"`
	HashState []byte    `json:"sha256_state"`
}

func (e *engine) paths(rel string) (part, state, final string) {
	part = filepath.Join(e.partRoot, filepath.FromSlash(rel)) + ".part"
	return part, part + ".json", filepath.Join(e.dataRoot, filepath.FromSlash(rel))
}

// fetch transfers one file into staging under its final name and returns
// its manifest entry. The bytes written must equal the size the server
// reports for the open handle before and after the read, and the server's
// size and mtime must not change meanwhile; otherwise nothing is staged.
func (e *engine) fetch(ctx context.Context, f remoteFile) (FileEntry, error) {
	partPath, statePath, finalPath := e.paths(f.rel)
	if err := os.MkdirAll(filepath.Dir(partPath), 0o700); err != nil {
		return FileEntry{}, localErr(err)
	}
	h := sha256.New()
	offset := e.resumeOffset(partPath, statePath, f, h)
	out, err := openPartial(partPath, offset)
	if err != nil {
		return FileEntry{}, localErr(err)
	}
	defer func() { _ = out.Close() }() // a second Close after the checked one below, or an abandoned partial file
	if offset > 0 {
		e.emit(Event{Kind: EventResume, File: f.rel, Offset: offset})
	} else {
		h.Reset()
	}

	// No stat before the read: the one after it compares with the listing
	// too, and a request fewer per file matters with thousands of files.
	remotePath := path.Join(e.exportDir, f.rel)
	rf, err := e.pick().Open(remotePath)
	if err != nil {
		return FileEntry{}, remoteErr(remotePath, err)
	}
	defer func() { _ = rf.Close() }() // read-only: the stat after the read already vouched for the data

	w := &stagedWriter{e: e, out: out, h: h, statePath: statePath, file: f, written: offset, lastCheckpoint: offset}
	// Before out.Close: the checkpoint may still be syncing. Its error
	// matters only on success, where finish is called and checked below.
	defer func() { _ = w.finish() }()
	if f.size-offset <= chunkSize {
		err = e.readSmall(ctx, rf, f, offset, w)
	} else {
		err = e.readRanges(ctx, remotePath, rf, f, offset, w)
	}
	if errors.Is(err, errShort) {
		// A file truncated or rewritten under us reads short: say so.
		if serr := sameStat(rf, f); errors.Is(serr, errChanged) {
			err = serr
		}
	}
	if err != nil {
		return FileEntry{}, err
	}
	if w.written != f.size {
		return FileEntry{}, msg.Errorf("%s: %d バイトを受信しましたが、サーバの報告は %d バイトです: %w",
			"%s: %d bytes received, the server reports %d: %w", f.rel, w.written, f.size, errShort)
	}
	// The handle's size and mtime after the read prove the data is one
	// consistent version of the file.
	if err := sameStat(rf, f); err != nil {
		return FileEntry{}, err
	}
	if err := w.finish(); err != nil {
		return FileEntry{}, err
	}
	if err := out.Close(); err != nil {
		return FileEntry{}, localErr(err)
	}
	if err := os.MkdirAll(filepath.Dir(finalPath), 0o755); err != nil {
		return FileEntry{}, localErr(err)
	}
	if err := os.Chtimes(partPath, f.mtime, f.mtime); err != nil {
		return FileEntry{}, localErr(err)
	}
	if err := os.Rename(partPath, finalPath); err != nil {
		return FileEntry{}, localErr(err)
	}
	_ = os.Remove(statePath) // a leftover is ignored: it names a size and mtime no partial file has now
	return FileEntry{Path: f.rel, Size: f.size, MTime: f.mtime, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// openPartial opens a partial file to continue at offset, or creates a
// fresh one. A fresh file is never made by truncating an old one: on ext4
// a truncate to zero makes close() flush the file at once, which turns
// the single syncfs at the end of a pull into one write-out per file.
func openPartial(p string, offset int64) (*os.File, error) {
	if offset == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	out, err := os.OpenFile(p, os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if err := out.Truncate(offset); err != nil {
		return nil, errors.Join(err, out.Close())
	}
	if _, err := out.Seek(offset, io.SeekStart); err != nil {
		return nil, errors.Join(err, out.Close())
	}
	return out, nil
}

// errShort: the server sent less than the file's size. With OpenSSH this
// is what oversized SFTP packets cause; it is never accepted as EOF.
var errShort = msg.New("サーバからの読み取りが途中で終わりました", "short read from the server")

// resumeOffset returns where to continue a partial file, restoring the
// hash state into h, or 0 to start over.
func (e *engine) resumeOffset(partPath, statePath string, f remoteFile, h hash.Hash) int64 {
	data, err := os.ReadFile(statePath)
	if err != nil {
		return 0
	}
	var st resumeState
	if json.Unmarshal(data, &st) != nil || st.Size != f.size || !st.MTime.Equal(f.mtime) || st.Offset <= 0 || st.Offset > f.size {
		_ = os.Remove(statePath) // stale either way: the transfer starts over
		return 0
	}
	fi, err := os.Stat(partPath)
	if err != nil || fi.Size() < st.Offset {
		return 0
	}
	if h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.HashState) != nil {
		return 0
	}
	return st.Offset
}

func sameStat(rf *sftp.File, f remoteFile) error {
	fi, err := rf.Stat()
	if err != nil {
		return remoteErr(f.rel, err)
	}
	if fi.Size() != f.size || !fi.ModTime().Equal(f.mtime) {
		return msg.Errorf("%s: サイズ %d→%d、更新時刻 %s→%s: %w", "%s: size %d→%d, mtime %s→%s: %w",
			f.rel, f.size, fi.Size(), f.mtime.Format(time.RFC3339), fi.ModTime().Format(time.RFC3339), errChanged)
	}
	return nil
}

// stagedWriter writes, hashes and checkpoints in file order.
type stagedWriter struct {
	e              *engine
	out            *os.File
	h              hash.Hash
	statePath      string
	file           remoteFile
	written        int64
	lastCheckpoint int64
	pending        chan error // the checkpoint being made durable, if any
}

func (w *stagedWriter) write(b []byte) error {
	var werr error
	if len(b) >= 1<<20 {
		// Hash while the kernel copies: on two cores this is most of
		// the writer's time.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, werr = w.out.Write(b)
		}()
		w.h.Write(b) // hash.Hash.Write never fails
		<-done
	} else {
		_, werr = w.out.Write(b)
		w.h.Write(b)
	}
	if werr != nil {
		return localErr(werr)
	}
	w.written += int64(len(b))
	w.e.done.Add(int64(len(b)))
	if w.written-w.lastCheckpoint >= checkpointEvery && w.written < w.file.size {
		return w.checkpoint()
	}
	return nil
}

// checkpoint records where a resumed transfer may continue. The fsync
// runs in the background so the in-order writer never waits for the disk;
// the state file is written only once the data up to its offset is
// durable, and one checkpoint is in flight at a time.
func (w *stagedWriter) checkpoint() error {
	if w.pending != nil {
		select {
		case err := <-w.pending:
			w.pending = nil
			if err != nil {
				return err
			}
		default:
			return nil // the previous one is still syncing: try at the next chunk
		}
	}
	hs, err := w.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	st := resumeState{Size: w.file.size, MTime: w.file.mtime, Offset: w.written, HashState: hs}
	ch := make(chan error, 1)
	w.pending = ch
	go func() {
		if err := w.out.Sync(); err != nil {
			ch <- localErr(err)
			return
		}
		data, err := json.Marshal(st)
		if err != nil {
			ch <- err
			return
		}
		if err := atomicfile.Write(w.statePath, data, 0o600); err != nil {
			ch <- localErr(err)
			return
		}
		ch <- nil
	}()
	w.lastCheckpoint = w.written
	return nil
}

// finish waits for a checkpoint still in flight.
func (w *stagedWriter) finish() error {
	if w.pending == nil {
		return nil
	}
	err := <-w.pending
	w.pending = nil
	return err
}

func (e *engine) wait(ctx context.Context, n int) error {
	if e.limiter == nil {
		return nil
	}
	return e.limiter.WaitN(ctx, n)
}

// readSmall reads the rest of a file in one ranged read.
func (e *engine) readSmall(ctx context.Context, rf *sftp.File, f remoteFile, offset int64, w *stagedWriter) error {
	n := f.size - offset
	if n == 0 {
		return nil
	}
	if err := e.budget.Acquire(ctx, n); err != nil {
		return err
	}
	defer e.budget.Release(n)
	if err := e.wait(ctx, int(n)); err != nil {
		return err
	}
	buf := make([]byte, n)
	if err := readFull(rf, buf, offset, f.rel); err != nil {
		return err
	}
	return w.write(buf)
}

// readFull fills b from offset; a short read is an error, never EOF.
func readFull(rf *sftp.File, b []byte, offset int64, rel string) error {
	got, err := rf.ReadAt(b, offset)
	if got == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return msg.Errorf("%s の位置 %d: %d バイトしか読めませんでした(%d バイト中): %w",
			"%s at offset %d: %d of %d bytes: %w", rel, offset, got, len(b), errShort)
	}
	return remoteErr(rel, err)
}

// piece is one chunk in flight.
type piece struct {
	buf  *[]byte
	n    int64
	err  error
	done chan struct{}
}

// readRanges reads chunks over every connection at once and hands them
// to w in order, so hashing still happens in one streaming pass.
func (e *engine) readRanges(ctx context.Context, remotePath string, primary *sftp.File, f remoteFile, offset int64, w *stagedWriter) error {
	handles := []*sftp.File{primary}
	defer func() {
		for _, h := range handles[1:] {
			_ = h.Close() // read-only handles: the data was checked as it came
		}
	}()
	for i := 1; i < len(e.conns); i++ {
		h, err := e.pick().Open(remotePath)
		if err != nil {
			return remoteErr(remotePath, err)
		}
		handles = append(handles, h)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make(chan *piece, inflightBytes/chunkSize+1)
	var readers sync.WaitGroup
	go func() {
		defer close(order)
		for i, off := 0, offset; off < f.size; i, off = i+1, off+chunkSize {
			n := min(int64(chunkSize), f.size-off)
			if e.budget.Acquire(ctx, n) != nil {
				return
			}
			p := &piece{buf: e.bufs.Get().(*[]byte), n: n, done: make(chan struct{})}
			order <- p
			readers.Add(1)
			go func(h *sftp.File, off int64) {
				defer readers.Done()
				defer close(p.done)
				if p.err = e.wait(ctx, int(n)); p.err == nil {
					p.err = readFull(h, (*p.buf)[:n], off, f.rel)
				}
			}(handles[i%len(handles)], off)
		}
	}()

	var firstErr error
	for p := range order {
		<-p.done
		if firstErr == nil {
			if p.err != nil {
				firstErr = p.err
			} else {
				firstErr = w.write((*p.buf)[:p.n])
			}
			if firstErr != nil {
				cancel()
			}
		}
		e.bufs.Put(p.buf)
		e.budget.Release(p.n)
	}
	readers.Wait()
	if firstErr == nil && ctx.Err() != nil && w.written < f.size {
		firstErr = ctx.Err()
	}
	return firstErr
}

// localError is a failure of the gateway's own disk. It stops the pull;
// reconnecting would not help.
type localError struct{ err error }

func (e *localError) Error() string              { return e.err.Error() }
func (e *localError) Unwrap() error              { return e.err }
func (e *localError) Localize(l msg.Lang) string { return msg.In(e.err, l) }

func isLocal(err error) bool {
	var l *localError
	return errors.As(err, &l)
}

func localErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) {
		return &localError{msg.Wrap(err, "ステージング領域がいっぱいです", "the staging disk is full")}
	}
	return &localError{msg.Wrap(err, "ステージング領域に書けません", "cannot write to staging")}
}

// remoteErr wraps a failure of the SFTP session: reconnecting may cure it,
// unless the server answered that the file or permission is the problem.
func remoteErr(p string, err error) error {
	var se *sftp.StatusError
	err = msg.Errorf("%s: %w", "%s: %w", p, err)
	if errors.As(err, &se) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return err
	}
	return retryable(err)
}
