package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"

	"github.com/danzen-gw/danzen/internal/atomicfile"
)

// File names inside the ledger directory.
const (
	FileName       = "ledger.jsonl"
	HeadFileName   = "head.json"
	LockFileName   = "ledger.lock"
	TornFilePrefix = "ledger.torn-"
)

// Options tune Open. The zero value is fine for production.
type Options struct {
	// Now is the clock for entry times (tests inject one). Default time.Now.
	Now func() time.Time
	// Logger receives repairs done at Open. Default slog.Default().
	Logger *slog.Logger
	// Reserve is the space kept aside for evidence when the disk fills
	// (reserve.go): 0 means DefaultReserve, negative none.
	Reserve int64
	// From is a point up to which the chain was verified before (status's
	// checkpoint): Open checks that entry against the file and then only
	// the lines after it. The zero Anchor, or one that does not match
	// (logged), makes Open check the whole chain. The full check is then
	// left to a scheduled Verify.
	From Anchor
	// Replay, when set, is called by Open with every entry it checked, in
	// order, and the Anchor just past it: the entries after From, or all
	// of them from seq 1 when From was not used (the receiver then starts
	// over). Entries Open itself appends go to Observer.
	Replay func(Entry, Anchor)
	// Observer, when set, is called after every entry is stored (by
	// Append, or by Open after a torn line), in seq order, with the entry
	// as stored and the Anchor just past it. It runs while the Ledger is
	// held: it must be quick and must not call the Ledger or read its files.
	Observer func(Entry, Anchor)
	// Clock, when set, says how the clock that dates each new entry is set
	// (ClockNTP, ClockRTC, ClockUnsynced); it is stored in the entry. Nil
	// (a bench PC, a test) stores nothing.
	Clock func() ClockState
}

// Ledger appends to one ledger directory. It is safe for concurrent use.
// Only one Ledger per directory may be open at a time, across processes.
type Ledger struct {
	dir, path string
	now       func() time.Time
	log       *slog.Logger
	reserve   int64
	from      Anchor
	replay    func(Entry, Anchor)
	observer  func(Entry, Anchor)
	clock     func() ClockState

	// sem serialises appends; a channel so waiting honours ctx.
	sem chan struct{}

	// Guarded by sem.
	lockFile  *os.File // flock held for the Ledger's lifetime
	f         *os.File // ledger.jsonl, O_APPEND
	size      int64    // bytes of complete entries
	last      Head
	headStale bool  // head.json lags last after a failed replace
	broken    error // set when a failed write could not be rolled back
	closed    bool
}

// Open opens (creating if needed) the ledger in dir with default options.
func Open(dir string) (*Ledger, error) { return OpenWith(dir, Options{}) }

// OpenWith opens the ledger in dir. It checks the whole chain and head.json;
// a torn last line is moved aside and recorded with an "interrupted" entry,
// any other damage returns an error wrapping ErrCorrupt and nothing is
// appended.
func OpenWith(dir string, opts Options) (*Ledger, error) {
	l := &Ledger{
		dir: dir, path: filepath.Join(dir, FileName),
		now: opts.Now, log: opts.Logger, reserve: opts.Reserve,
		from: opts.From, replay: opts.Replay, observer: opts.Observer, clock: opts.Clock,
		sem: make(chan struct{}, 1),
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.reserve == 0 {
		l.reserve = DefaultReserve
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, ioError(dir, "証跡台帳のフォルダを作成できません", "cannot create the evidence ledger folder", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, LockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, ioError(dir, "証跡台帳のロックファイルを開けません", "cannot open the evidence ledger lock file", err)
	}
	if err := flock(lf, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lf.Close() // nothing was written through it: the lock's failure is what to act on
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &Error{Path: dir, Err: ErrInUse,
				Text: msg.Sprintf("証跡台帳 %s は別のプロセスが使用中です（danzend が動作中の可能性があります）",
					"the evidence ledger %s is in use by another process (danzend may be running)", dir)}
		}
		return nil, ioError(dir, "証跡台帳をロックできません", "cannot lock the evidence ledger", err)
	}
	l.lockFile = lf
	_, statErr := os.Lstat(l.path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		_ = lf.Close() // releases the lock; the open's failure is what to act on
		return nil, ioError(l.path, "証跡台帳を開けません", "cannot open the evidence ledger", err)
	}
	l.f = f
	if created {
		if err := atomicfile.SyncDir(dir); err != nil {
			_ = l.closeFiles() // every write was fsynced; the failure above is what to act on
			return nil, ioError(dir, "証跡台帳の作成を確定できません", "cannot make the new evidence ledger durable", err)
		}
	}
	if err := l.recover(); err != nil {
		_ = l.closeFiles() // every write was fsynced; the failure above is what to act on
		return nil, err
	}
	if err := l.ensureReserve(); err != nil {
		// Not fatal: opening must still work to cut the media and say so.
		l.log.Error("evidence ledger", "err", err)
	}
	return l, nil
}

// recover reads the existing chain (after l.from when it matches),
// repairs what a crash can leave (torn last line, head.json one entry
// behind) and refuses anything else.
func (l *Ledger) recover() (err error) {
	if err := flock(l.f, syscall.LOCK_EX); err != nil {
		return ioError(l.path, "証跡台帳をロックできません", "cannot lock the evidence ledger", err)
	}
	defer func() {
		if uerr := flock(l.f, syscall.LOCK_UN); uerr != nil && err == nil {
			err = ioError(l.path, "証跡台帳のロックを解除できません", "cannot unlock the evidence ledger", uerr)
		}
	}()
	fi, err := l.f.Stat()
	if err != nil {
		return ioError(l.path, "証跡台帳を読めません", "cannot read the evidence ledger", err)
	}
	if !fi.Mode().IsRegular() {
		return ioError(l.path, "証跡台帳が通常のファイルではありません", "the evidence ledger is not a regular file", ErrCorrupt)
	}
	head, headErr := readHead(l.dir)
	res, err := l.scanExisting(fi.Size())
	if err != nil {
		return ioError(l.path, "証跡台帳を読めません", "cannot read the evidence ledger", err)
	}
	headProblems, lag := checkHead(head, headErr, res)
	if problems := append(res.Problems, headProblems...); len(problems) > 0 {
		return corruptError(l.path, true, problems)
	}
	l.size, l.last = res.GoodSize, res.Last
	if res.Entries == 0 {
		l.last = Head{Hash: GenesisHash}
	}
	l.removeStaleTemps()
	if lag {
		l.log.Warn("ledger: head.json was one entry behind (stopped between writing an entry and the anchor); repairing",
			"dir", l.dir, "seq", l.last.Seq)
		if err := l.writeHead(); err != nil {
			return ioError(l.path, "head.json を修復できません", "cannot repair head.json", err)
		}
	}
	if res.Torn != nil {
		if err := l.moveTornAside(*res.Torn); err != nil {
			return err
		}
	}
	return nil
}

// scanExisting checks the chain of the size bytes in the file: after
// l.from when that entry is where it says, else all of it. Each entry
// checked goes to l.replay.
func (l *Ledger) scanExisting(size int64) (scanResult, error) {
	opt := scanOptions{}
	if l.replay != nil {
		opt.visit = func(e Entry, a Anchor) error { l.replay(e, a); return nil }
	}
	if l.from.Seq > 0 {
		prev, err := checkAnchor(l.f, size, l.from)
		if err == nil {
			opt.from, opt.prev = l.from, prev
			return scanLedger(io.NewSectionReader(l.f, l.from.Offset, size-l.from.Offset), opt)
		}
		l.log.Warn("ledger: the checkpoint does not match the ledger; checking the whole chain", "dir", l.dir, "err", err)
	}
	return scanLedger(io.NewSectionReader(l.f, 0, size), opt)
}

// moveTornAside keeps the torn bytes as evidence in a side file, cuts them
// off the ledger and records that it did so.
func (l *Ledger) moveTornAside(t tornTail) error {
	raw, err := io.ReadAll(io.NewSectionReader(l.f, t.Offset, t.Size))
	if err != nil {
		return ioError(l.path, "書きかけの行を読めません", "cannot read the incomplete last line", err)
	}
	now := l.now().UTC()
	name, err := l.createTornFile(now, raw)
	if err != nil {
		return ioError(l.dir, "書きかけの行を退避できません", "cannot move the incomplete last line aside", err)
	}
	if err := l.f.Truncate(t.Offset); err != nil {
		return ioError(l.path, "書きかけの行を台帳から除けません", "cannot cut the incomplete last line off the ledger", err)
	}
	if err := l.f.Sync(); err != nil {
		return ioError(l.path, "書きかけの行を台帳から除けません", "cannot cut the incomplete last line off the ledger", err)
	}
	sum := sha256.Sum256(raw)
	l.log.Warn("ledger: incomplete last line moved aside", "dir", l.dir, "file", name, "bytes", len(raw))
	stored, err := l.appendLocked(Entry{
		Kind:  KindInterrupted,
		Actor: ActorSystem,
		Message: msg.Sprintf("前回、記録の書き込み中に停止しました。書きかけの %d バイトを %s に退避し、台帳からは除きました。",
			"The device stopped while writing an entry; the incomplete %d bytes were moved to %s and are not part of the chain.",
			len(raw), name),
		Payload: InterruptedData{TornFile: name, TornBytes: int64(len(raw)), TornOffset: t.Offset, TornSHA256: hex.EncodeToString(sum[:])},
	})
	if stored.Seq != 0 {
		l.observe(stored)
	}
	if errors.Is(err, ErrHeadNotUpdated) {
		// The entry is stored; the next Append retries head.json first.
		l.log.Warn("ledger: head.json not updated after recording the interruption", "err", err)
		return nil
	}
	return err
}

func (l *Ledger) createTornFile(now time.Time, raw []byte) (string, error) {
	base := TornFilePrefix + now.Format("20060102T150405.000000000Z")
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name += "-" + strconv.Itoa(i)
		}
		f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(raw); err != nil {
			_ = f.Close() // the write failed: that is the error to report
			return "", err
		}
		if err := f.Sync(); err != nil {
			_ = f.Close() // the fsync failed: that is the error to report
			return "", err
		}
		if err := f.Close(); err != nil {
			return "", err
		}
		return name, atomicfile.SyncDir(l.dir)
	}
}

// removeStaleTemps deletes head.json temp files a crash left behind.
func (l *Ledger) removeStaleTemps() {
	names, err := filepath.Glob(filepath.Join(l.dir, "."+HeadFileName+".tmp-*"))
	if err != nil {
		return
	}
	for _, n := range names {
		if err := os.Remove(n); err != nil {
			l.log.Warn("ledger: cannot remove stale temp file", "file", n, "err", err)
		}
	}
}

// Dir is the ledger directory.
func (l *Ledger) Dir() string { return l.dir }

// Head is the last entry's anchor (Seq 0 and GenesisHash when empty).
func (l *Ledger) Head() Head {
	l.sem <- struct{}{}
	defer func() { <-l.sem }()
	return l.last
}

// Append stores e as the next entry: it fills Seq, Time, Prev and Hash,
// writes the line with one write, fsyncs it and replaces head.json. The
// returned Entry is exactly what was stored. If the error wraps
// ErrHeadNotUpdated the entry was stored nevertheless.
func (l *Ledger) Append(ctx context.Context, e Entry) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	}
	defer func() { <-l.sem }()
	if l.closed {
		return Entry{}, ErrClosed
	}
	if l.broken != nil {
		return Entry{}, l.broken
	}
	stored, err := l.appendFlocked(e)
	if stored.Seq != 0 {
		l.observe(stored)
	}
	return stored, err
}

// appendFlocked appends under the file's flock (needs sem); after a full
// disk it gives up the reserve and tries once more, so the evidence of a
// powered medium is kept (Room refuses the next power-on).
func (l *Ledger) appendFlocked(e Entry) (stored Entry, err error) {
	if err := flock(l.f, syscall.LOCK_EX); err != nil {
		return Entry{}, ioError(l.path, "証跡台帳をロックできません", "cannot lock the evidence ledger", err)
	}
	defer func() {
		// The entry is stored whatever the unlock says; closing the file
		// releases the lock at the latest.
		if uerr := flock(l.f, syscall.LOCK_UN); uerr != nil {
			l.log.Warn("ledger: cannot release the file lock", "err", uerr)
		}
	}()
	stored, err = l.appendLocked(e)
	switch {
	case err == nil || !noSpace(err) || !l.releaseReserve():
	case errors.Is(err, ErrHeadNotUpdated):
		if l.writeHead() == nil {
			l.headStale = false
			err = nil
		}
	case l.broken == nil:
		stored, err = l.appendLocked(e)
	}
	return stored, err
}

// observe hands a stored entry to the observer (needs sem).
func (l *Ledger) observe(e Entry) {
	if l.observer != nil {
		l.observer(e, anchorOf(e, l.size))
	}
}

// appendLocked needs sem and the file's flock.
func (l *Ledger) appendLocked(e Entry) (Entry, error) {
	if err := validateNew(e); err != nil {
		return Entry{}, fmt.Errorf("ledger: append %q: %w", e.Kind, err)
	}
	raw, err := encodePayload(e)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: append %q: %w", e.Kind, err)
	}
	data, err := canonicalData(raw)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: append %q: %w", e.Kind, err)
	}
	message, err := encodeMessage(e.Message)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: append %q: %w", e.Kind, err)
	}
	// Never let head.json fall more than one entry behind: Open accepts
	// exactly that lag after a crash, no more.
	if l.headStale {
		if err := l.writeHead(); err != nil {
			return Entry{}, ioError(l.dir, "head.json を更新できないため記録を追加できません",
				"cannot append because head.json cannot be updated", err)
		}
		l.headStale = false
	}
	var clock ClockState
	if l.clock != nil {
		clock = l.clock()
	}
	w := wireEntry{
		Seq:     l.last.Seq + 1,
		Time:    l.now().Round(0).UTC().Format(time.RFC3339Nano),
		Clock:   clock,
		Kind:    e.Kind,
		Medium:  e.Medium,
		Actor:   e.Actor,
		Message: message,
		Data:    data,
		Prev:    l.last.Hash,
	}
	line, _, err := encodeLine(w)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: append %q: %w", e.Kind, err)
	}
	if len(line) > MaxLineBytes {
		return Entry{}, fmt.Errorf("ledger: append %q: entry is %d bytes, more than %d", e.Kind, len(line), MaxLineBytes)
	}
	// Parse back so the caller gets exactly what an auditor will read.
	stored, err := parseLine(line[:len(line)-1])
	if err != nil || !stored.hashOK {
		return Entry{}, fmt.Errorf("ledger: append %q: encoded line does not verify: %v", e.Kind, err)
	}
	if _, err := l.f.Write(line); err != nil {
		return Entry{}, l.rollback(err)
	}
	if err := l.f.Sync(); err != nil {
		return Entry{}, l.rollback(err)
	}
	l.size += int64(len(line))
	l.last = Head{Seq: stored.Seq, Hash: stored.Hash, Time: stored.Time}
	if err := l.writeHead(); err != nil {
		l.headStale = true
		return stored.Entry, &Error{Path: l.dir,
			Text: msg.Sprintf("seq %d は記録しましたが head.json を更新できませんでした", "seq %d was stored but head.json could not be updated", stored.Seq),
			Err:  fmt.Errorf("%w: %w", ErrHeadNotUpdated, err)}
	}
	return stored.Entry, nil
}

// rollback cuts a partly written line off, so the next append does not
// follow garbage. If even that fails the Ledger refuses further appends.
func (l *Ledger) rollback(cause error) error {
	werr := ioError(l.path, "証跡台帳に書き込めません", "cannot write to the evidence ledger", cause)
	if err := l.f.Truncate(l.size); err == nil {
		err = l.f.Sync()
		if err == nil {
			return werr
		}
	}
	l.broken = ioError(l.path,
		"証跡台帳への書き込みに失敗し、元に戻せませんでした。danzend を再起動してください",
		"writing to the evidence ledger failed and could not be undone; restart danzend", cause)
	return l.broken
}

func (l *Ledger) writeHead() error {
	b, err := json.Marshal(l.last)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(l.dir, HeadFileName), append(b, '\n'), 0o600)
}

// Close releases the ledger. Appends after Close return ErrClosed.
func (l *Ledger) Close() error {
	l.sem <- struct{}{}
	defer func() { <-l.sem }()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.closeFiles()
}

func (l *Ledger) closeFiles() error {
	var errs []error
	if l.f != nil {
		errs = append(errs, l.f.Close())
	}
	if l.lockFile != nil {
		errs = append(errs, l.lockFile.Close()) // closing releases the flock
	}
	return errors.Join(errs...)
}

// TornFiles lists the side files of torn lines in dir (see Open).
func TornFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), TornFilePrefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
