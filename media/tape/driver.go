package tape

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
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
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Options are what differs between the appliance, the demo and tests.
type Options struct {
	// Host is the drive; nil means the st driver at the spec's device.
	Host   Host
	Logger *slog.Logger
	// Events receives what was written to or read from tape (for the
	// evidence ledger); may be nil.
	Events func(Event)
	// Poll is how often presence is checked (default 250 ms).
	Poll time.Duration
}

// Event kinds: each is a kind of the evidence ledger.
const (
	EventLabel   = ledger.KindTapeLabel   // a blank tape was labelled
	EventArchive = ledger.KindTapeArchive // an archive was written and verified
	EventFull    = ledger.KindTapeFull    // the tape filled mid-archive
	EventRestore = ledger.KindTapeRestore // archives were read back for a restore
	EventEject   = ledger.KindTapeEject   // the cartridge was unloaded
)

// Event is one tape operation, as the evidence ledger stores it.
type Event = ledger.TapeEvent

// Driver is one tape medium: a drive on a relay and the spool repository
// whose new files it appends to the loaded tape. One session (Attach …
// Detach) runs at a time.
type Driver struct {
	spec Spec
	host Host
	log  *slog.Logger
	emit func(Event)
	poll time.Duration

	// Session state, reset by BeforePowerOn.
	dev       Device
	tape      *TapeRecord
	cat       *Catalogue
	restoring bool
	ejected   bool
}

// New returns the driver of spec.
func New(spec Spec, o Options) (*Driver, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	d := &Driver{spec: spec, host: o.Host, log: o.Logger, emit: o.Events, poll: o.Poll}
	if d.host == nil {
		d.host = St{Path: spec.device()}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.emit == nil {
		d.emit = func(Event) {}
	}
	if d.poll <= 0 {
		d.poll = 250 * time.Millisecond
	}
	return d, nil
}

// BeforePowerOn refuses a drive that is there before its relay closes:
// then the relay does not prove it powers this drive.
func (d *Driver) BeforePowerOn() error {
	d.dev, d.tape, d.cat, d.restoring, d.ejected = nil, nil, nil, false, false
	if d.host.Present() {
		return msg.Errorf("テープ装置 %s は通電前から接続されています。リレーがこの装置を給電していることを確認できません", "tape drive %s is present before power-on: its relay cannot be shown to power it", d.host)
	}
	return nil
}

// Attach waits for the drive, loads the cartridge and identifies it by its
// label. For a backup it returns the spool repository (a blank tape is
// labelled first); for a restore it reads the tape's archives into a
// directory and returns that. On failure the cartridge is ejected, so the
// person at the gateway can change it.
func (d *Driver) Attach(ctx context.Context, restore bool) (repo string, err error) {
	d.restoring = restore
	if d.cat, err = LoadCatalogue(d.spec); err != nil {
		return "", err
	}
	dev, wp, err := d.open(ctx, !restore)
	if err != nil {
		return "", err
	}
	d.dev = dev
	defer func() {
		if err == nil {
			return
		}
		// Joined only when there is more to say: a join of one error
		// would hide its languages from msg.In.
		if uerr := d.unload(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	if err := dev.SetVariableBlock(); err != nil {
		return "", err
	}
	label, err := readLabel(dev)
	if err != nil {
		return "", err
	}
	if restore {
		if label == nil {
			return "", msg.Errorf("テープ装置 %s のテープは空です。復元するテープを入れてください", "the tape in drive %s is blank: insert the tape to restore from", d.host)
		}
		return d.restore(ctx, label)
	}
	if label == nil {
		if wp {
			return "", d.writeProtected(msg.T("(空)", "(blank)"))
		}
		return d.spec.RepoDir(), d.label()
	}
	t := d.cat.Tape(label.ID)
	switch {
	case t == nil || label.Medium != d.spec.Name:
		return "", msg.Errorf("テープ %s(媒体 %s)はこの媒体 %s の目録にありません。この媒体のテープか空のテープを入れてください", "tape %s (medium %s) is not in medium %s's catalogue: insert one of its tapes or a blank tape", label.ID, label.Medium, d.spec.Name)
	case t.Full:
		return "", fullError(t.ID)
	case wp:
		return "", d.writeProtected(msg.Plain(t.ID))
	}
	d.tape = t
	d.cat.Current = t.ID
	return d.spec.RepoDir(), saveCatalogue(d.spec, d.cat)
}

// open waits for the drive to appear and a cartridge to come online.
func (d *Driver) open(ctx context.Context, write bool) (dev Device, writeProtected bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.spec.appearTimeout())
	defer cancel()
	t := time.NewTicker(d.poll)
	defer t.Stop()
	var last error
	for {
		if d.host.Present() {
			dev, last = d.host.Open(write)
			if errors.Is(last, ErrWriteProtected) {
				dev, last = d.host.Open(false)
				writeProtected = true
			}
			if last == nil {
				st, err := dev.Status()
				if err == nil && !st.Online {
					// A cartridge ejected last time is still in the slot.
					// Without one Load fails, and the status says so.
					_ = dev.Load()
					st, err = dev.Status()
				}
				switch {
				case err != nil:
					last = err
				case !st.Online:
					// Still loading after power-up, or no cartridge.
					last = errNoTape
				default:
					return dev, writeProtected || st.WriteProtected, nil
				}
				_ = dev.Close() // not used: opened again at the next look
			}
		}
		select {
		case <-ctx.Done():
			if last == errNoTape {
				return nil, false, msg.Errorf("テープ装置 %s にテープが入っていません。テープを入れてください", "no tape in drive %s: insert a tape", d.host)
			}
			if last == nil {
				last = ctx.Err()
			}
			return nil, false, msg.Errorf("テープ装置 %s が %s 以内に現れませんでした(電源・ケーブル・SAS を確認してください): %w", "tape drive %s did not appear within %s (check its power, cable and SAS adapter): %w", d.host, d.spec.appearTimeout(), last)
		case <-t.C:
		}
	}
}

var (
	errNoTape     = errors.New("no cartridge online")
	errNotArchive = errors.New("not a danzen archive")
)

// writeProtected says that tape (its ID, or that it is blank) is
// write-protected.
func (d *Driver) writeProtected(tape msg.Text) error {
	return msg.Errorf("テープ %s は書き込み禁止(ライトプロテクト)です。書き込めるテープを入れるか、タブを戻してください: %w", "tape %s is write-protected: insert a writable tape or slide its write-protect tab back: %w", tape, ErrWriteProtected)
}

// TapeFullError says a tape filled up mid-archive.
type TapeFullError struct{ Tape string }

func (e *TapeFullError) Error() string { return e.Localize(msg.Both) }

// Localize says which tape to change, in l.
func (e *TapeFullError) Localize(l msg.Lang) string {
	return msg.Sprintf("テープ %s が満杯です。新しい(空の)テープを入れてください。次回はそのテープに全体を書きます",
		"tape %s is full: insert a new (blank) tape; the next cycle writes a full baseline to it", e.Tape).Localize(l)
}

func (e *TapeFullError) Unwrap() error { return ErrEndOfMedium }

func fullError(id string) error { return &TapeFullError{Tape: id} }

// label writes file 0 of a blank tape and starts its record.
func (d *Driver) label() error {
	var rnd [3]byte
	rand.Read(rnd[:])
	now := time.Now().UTC()
	l := Label{Format: labelFormat, ID: fmt.Sprintf("%s-%s-%x", d.spec.Name, now.Format("20060102"), rnd), Medium: d.spec.Name, Created: now}
	b, _ := json.Marshal(l)
	if err := d.dev.Rewind(); err != nil {
		return err
	}
	if err := d.writeFile(func(tw *tar.Writer) error { return addJSON(tw, LabelMember, b) }); err != nil {
		return err
	}
	d.tape = &TapeRecord{ID: l.ID, Created: now}
	d.cat.Tapes = append(d.cat.Tapes, d.tape)
	d.cat.Current = l.ID
	d.emit(Event{Kind: EventLabel, Medium: d.spec.Name, Tape: l.ID})
	return saveCatalogue(d.spec, d.cat)
}

// writeFile writes one tape file: a tar archive in fixed records, then a
// filemark.
func (d *Driver) writeFile(fill func(*tar.Writer) error) error {
	rw := newRecordWriter(d.dev, d.spec.recordSize())
	tw := tar.NewWriter(rw)
	err := fill(tw)
	if err == nil {
		err = tw.Close()
	}
	// Close always: it ends the writing goroutine. A device error it
	// reports (the end of the medium) comes before the others.
	if cerr := rw.Close(); cerr != nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return d.dev.WriteFilemark()
}

func addJSON(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

// readLabel rewinds and reads file 0; a blank tape gives nil.
func readLabel(dev Device) (*Label, error) {
	if err := dev.Rewind(); err != nil {
		return nil, err
	}
	rr := newRecordReader(dev)
	tr := tar.NewReader(rr)
	h, err := tr.Next()
	if errors.Is(err, ErrEndOfData) {
		return nil, nil
	}
	notOurs := func(err error) error {
		return msg.Errorf("このテープは danzen のテープではありません(先頭にラベルがありません)。空のテープを入れてください: %w", "this is not a danzen tape (no label at its start): insert a blank tape: %w", err)
	}
	if err == io.EOF {
		// An empty first file: st reports blank tape so (0 bytes, then
		// EIO), as it does an erased one. Data after it is someone's.
		_, rerr := dev.ReadRecord(make([]byte, MaxRecordSize))
		if errors.Is(rerr, ErrEndOfData) || errors.Is(rerr, ErrFilemark) || errors.Is(rerr, unix.EIO) {
			return nil, nil
		}
		return nil, notOurs(msg.New("最初のファイルが空で、その後にデータがあります", "its first file is empty and data follows"))
	}
	if err != nil {
		return nil, notOurs(err)
	}
	if h.Name != LabelMember {
		return nil, notOurs(msg.Errorf("最初の項目が %q です", "first member is %q", h.Name))
	}
	var l Label
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&l); err != nil || l.Format != labelFormat {
		return nil, notOurs(msg.Errorf("ラベル: %v(形式 %q)", "label: %v (format %q)", err, l.Format))
	}
	return &l, rr.drain()
}

// Flush appends to the tape the repository files that are new since its
// last archive, then reads the archive back and checks every file's
// SHA-256. When a pack file was deleted (prune) the archive is a full
// baseline. A backup session calls it after the backup; a restore does
// not write.
func (d *Driver) Flush(ctx context.Context) error {
	if d.restoring || d.tape == nil || d.dev == nil {
		return nil
	}
	repo := d.spec.RepoDir()
	file, err := d.nextArchive(repo)
	if err != nil || file == nil {
		return err
	}
	if err := d.positionAtEnd(file); err != nil {
		return err
	}
	rec := *d.tape
	rec.Files = append(append([]TapeFile(nil), d.tape.Files...), *file)
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := d.writeArchive(ctx, repo, file, recJSON); err != nil {
		return err
	}
	if err := d.verifyArchive(ctx, file.Number, recJSON); err != nil {
		return err
	}
	d.tape.Files = rec.Files
	d.emit(Event{Kind: EventArchive, Medium: d.spec.Name, Tape: d.tape.ID, File: file.Number, Files: len(file.Entries), Bytes: file.Bytes, Baseline: file.Baseline})
	d.log.Info("tape archive written and verified", "medium", d.spec.Name, "tape", d.tape.ID, "file", file.Number, "files", len(file.Entries), "bytes", file.Bytes, "baseline", file.Baseline)
	return saveCatalogue(d.spec, d.cat)
}

// nextArchive compares the spool repository with what the tape holds and
// returns the archive to append (its number not yet set), or nil when
// nothing changed.
func (d *Driver) nextArchive(repo string) (*TapeFile, error) {
	current, err := scanRepo(repo)
	if err != nil {
		return nil, err
	}
	state := d.tape.State()
	file := TapeFile{Written: time.Now().UTC(), Baseline: d.tape.LastBaseline() < 0}
	for _, p := range sortedKeys(state) {
		if _, ok := current[p]; !ok {
			file.Removed = append(file.Removed, p)
			// Packs rewritten by prune: older archives hold packs that
			// the new index no longer names, so start over.
			file.Baseline = file.Baseline || strings.HasPrefix(p, "data/")
		}
	}
	var paths []string
	for _, p := range sortedKeys(current) {
		if e, ok := state[p]; file.Baseline || !ok || e.Size != current[p] {
			paths = append(paths, p)
		}
	}
	if file.Baseline {
		file.Removed = nil
	}
	if len(paths) == 0 && len(file.Removed) == 0 {
		return nil, nil
	}
	for _, p := range paths {
		// A content-addressed file's name is its SHA-256, checked as it
		// goes to tape; only config is hashed beforehand.
		e := FileEntry{Path: p, Size: current[p], SHA256: p[strings.LastIndexByte(p, '/')+1:]}
		if !contentAddressed(p) {
			if e, err = hashFile(repo, p); err != nil {
				return nil, err
			}
		}
		file.Entries = append(file.Entries, e)
		file.Bytes += e.Size
	}
	return &file, nil
}

// positionAtEnd moves to the end of the recorded data and numbers file
// after the last archive on the tape, closing a file that a power loss
// cut short. A tape holding fewer files than its catalogue is refused.
func (d *Driver) positionAtEnd(file *TapeFile) error {
	if err := d.dev.SpaceEOD(); err != nil {
		return err
	}
	file.Number = d.tape.nextFile()
	st, err := d.dev.Status()
	if err != nil {
		// Without a status the counts cannot be compared: append at the
		// end of data, where SpaceEOD put the tape.
		d.log.Warn("tape status unreadable before appending", "tape", d.tape.ID, "err", err)
		return nil
	}
	if st.Block > 0 {
		// Records after the last filemark: a write cut short by a power
		// loss. Close that file so the new archive starts a file of its own.
		if err := d.dev.WriteFilemark(); err != nil {
			return err
		}
		st.File++
	}
	switch {
	case st.File > file.Number:
		// An archive cut short (a cancelled or failed write) follows the
		// last one catalogued: it is skipped, never read.
		d.log.Warn("tape holds an archive the catalogue does not name; appending after it", "tape", d.tape.ID, "catalogued", file.Number-1, "files", st.File)
		file.Number = st.File
	case st.File >= 0 && st.File < file.Number:
		// Fewer files than the catalogue knows: not the tape it says.
		return msg.Errorf("テープ %s の内容(ファイル %d 個)が目録(%d 個)と一致しません。新しいテープを入れてください",
			"tape %s holds %d files but its catalogue %d: insert a new tape", d.tape.ID, st.File, file.Number)
	}
	return nil
}

// writeArchive writes file as one tape file: the tape's record (recJSON)
// first, then the repository files. A tape that fills up is retired; a
// failed write leaves the next archive to follow the broken one.
func (d *Driver) writeArchive(ctx context.Context, repo string, file *TapeFile, recJSON []byte) error {
	err := d.writeFile(func(tw *tar.Writer) error {
		if err := addJSON(tw, CatalogueMember, recJSON); err != nil {
			return err
		}
		for _, e := range file.Entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := addRepoFile(tw, repo, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	// Close the partial archive with a filemark so that the tape stays
	// readable up to it; the catalogue never names it. Should the
	// filemark fail too, nothing is lost: a full tape is not written
	// again, and after a failed write the next Flush finds the records
	// after the last filemark and closes them first.
	if ferr := d.dev.WriteFilemark(); ferr != nil {
		d.log.Warn("the unfinished archive is not closed by a filemark", "tape", d.tape.ID, "file", file.Number, "err", ferr)
	}
	if errors.Is(err, ErrEndOfMedium) {
		d.tape.Full = true
		d.cat.Current = ""
		d.emit(Event{Kind: EventFull, Medium: d.spec.Name, Tape: d.tape.ID, File: file.Number, Message: msg.TextOf(fullError(d.tape.ID))})
		if err := saveCatalogue(d.spec, d.cat); err != nil {
			return errors.Join(fullError(d.tape.ID), err)
		}
		return fullError(d.tape.ID)
	}
	return msg.Errorf("テープ %s への書き込みに失敗しました: %w", "writing tape %s failed: %w", d.tape.ID, err)
}

// verifyArchive reads archive number back and checks that it starts with
// the record written (recJSON) and holds every file with its SHA-256.
func (d *Driver) verifyArchive(ctx context.Context, number int, recJSON []byte) error {
	if err := d.dev.Rewind(); err != nil {
		return err
	}
	if err := d.dev.SpaceFiles(number); err != nil {
		return err
	}
	got, err := readArchive(ctx, d.dev, "")
	if err == nil && !bytes.Equal(mustJSON(got), recJSON) {
		err = msg.New("アーカイブの目録が書き込んだものと違います", "the archive's catalogue differs from what was written")
	}
	if err != nil {
		return msg.Errorf("テープ %s のファイル %d を読み返した内容が一致しません: %w", "tape %s file %d does not read back as written: %w", d.tape.ID, number, err)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data types only
	}
	return b
}

// scanRepo lists the repository's files and sizes, without locks (they
// belong to the running process, not to the backup).
func scanRepo(repo string) (map[string]int64, error) {
	files := map[string]int64{}
	err := filepath.WalkDir(repo, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, path)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel == "locks" {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		files[rel] = fi.Size()
		return nil
	})
	if err != nil {
		return nil, msg.Errorf("スプールのリポジトリ %s を読めません: %w", "cannot read the spool repository %s: %w", repo, err)
	}
	return files, nil
}

// hashFile hashes one repository file.
func hashFile(repo, p string) (FileEntry, error) {
	f, err := os.Open(filepath.Join(repo, filepath.FromSlash(p)))
	if err != nil {
		return FileEntry{}, err
	}
	defer func() { _ = f.Close() }() // read only
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileEntry{}, err
	}
	return FileEntry{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func addRepoFile(tw *tar.Writer, repo string, e FileEntry) error {
	f, err := os.Open(filepath.Join(repo, filepath.FromSlash(e.Path)))
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read only
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: RepoPrefix + e.Path, Mode: 0o600, Size: e.Size, ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(tw, io.TeeReader(io.LimitReader(f, e.Size), h)); err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		return msg.Errorf("スプールのファイル %s が壊れています(SHA-256 が違います)", "spool file %s is damaged (its SHA-256 differs)", e.Path)
	}
	return nil
}

// readArchive reads one archive from the tape's position and checks every
// member against the catalogue it starts with: the right files, sizes and
// SHA-256. With dest set, the repository files are written under it. The tape ends positioned after the archive's filemark.
func readArchive(ctx context.Context, dev Device, dest string) (rec *TapeRecord, err error) {
	rr := newRecordReader(dev)
	defer func() {
		if err != nil && !errors.Is(err, ErrEndOfData) {
			// To the next file, also after a damaged archive. Failing
			// that, the tape's position is unknown, which the caller
			// must learn as well.
			if derr := rr.drain(); derr != nil {
				err = errors.Join(err, derr)
			}
		}
	}()
	tr := tar.NewReader(rr)
	h, err := tr.Next()
	if err == io.EOF {
		err = fmt.Errorf("empty tape file: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return nil, err
	}
	if h.Name != CatalogueMember {
		return nil, fmt.Errorf("%w: it starts with %q, not %s", errNotArchive, h.Name, CatalogueMember)
	}
	rec = new(TapeRecord)
	if err := json.NewDecoder(io.LimitReader(tr, 256<<20)).Decode(rec); err != nil {
		return nil, fmt.Errorf("%w: catalogue: %v", errNotArchive, err)
	}
	if len(rec.Files) == 0 {
		return nil, fmt.Errorf("%w: its catalogue names no file", errNotArchive)
	}
	self := rec.Files[len(rec.Files)-1]
	want := map[string]FileEntry{}
	for _, e := range self.Entries {
		want[e.Path] = e
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		p, ok := strings.CutPrefix(h.Name, RepoPrefix)
		e, known := want[p]
		if !ok || !known || !filepath.IsLocal(filepath.FromSlash(p)) {
			return nil, fmt.Errorf("unexpected member %q", h.Name)
		}
		if err := copyMember(tr, dest, e); err != nil {
			return nil, err
		}
		delete(want, p)
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("%d files missing from the archive, e.g. %s", len(want), sortedKeys(want)[0])
	}
	return rec, rr.drain()
}

// copyMember checks one member's size and SHA-256 and, with dest set,
// writes it there (complete files only: a temp file renamed at the end).
func copyMember(r io.Reader, dest string, e FileEntry) error {
	w := io.Discard
	var f *os.File
	if dest != "" {
		target := filepath.Join(dest, filepath.FromSlash(e.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		var err error
		if f, err = os.CreateTemp(filepath.Dir(target), ".part-*"); err != nil {
			return err
		}
		defer discard(f)
		w = f
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), r)
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != e.Size || sum != e.SHA256 || contentAddressed(e.Path) && !strings.HasSuffix(e.Path, "/"+sum) {
		return fmt.Errorf("%s: read %d bytes with SHA-256 %s, want %d bytes with %s", e.Path, n, sum, e.Size, e.SHA256)
	}
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dest, filepath.FromSlash(e.Path)))
}

// discard closes and removes a temporary file that was not renamed into
// place. After the rename there is nothing left to do, and a part left
// behind goes with the directory it was read into.
func discard(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// restore reads the archives from the last baseline on into the restore
// directory and returns the repository there. A tape this gateway does
// not know (a replacement gateway) is read from its first archive, each
// baseline starting over.
func (d *Driver) restore(ctx context.Context, label *Label) (string, error) {
	dir := d.spec.restoreDir()
	repo := filepath.Join(dir, "repo")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(repo, 0o700); err != nil {
		return "", err
	}
	// The catalogued archives from the last baseline on; without a
	// catalogue (a replacement gateway), every archive to the end.
	var want []int
	if t := d.cat.Tape(label.ID); t != nil {
		if b := t.LastBaseline(); b >= 0 {
			for _, f := range t.Files[b:] {
				want = append(want, f.Number)
			}
		}
	}
	known := want != nil
	if err := d.dev.Rewind(); err != nil {
		return "", err
	}
	var last *TapeRecord
	var files int
	var bytes int64
	incoming := filepath.Join(dir, "incoming")
	for n, pos := 1, 0; !known || len(want) > 0; n++ {
		if known {
			n, want = want[0], want[1:]
		}
		if err := d.dev.SpaceFiles(n - pos); err != nil {
			return "", err
		}
		pos = n + 1
		// Each archive lands in incoming first and joins the repository
		// only when complete, so an archive cut short adds nothing.
		if err := os.RemoveAll(incoming); err != nil {
			return "", err
		}
		rec, err := readArchive(ctx, d.dev, incoming)
		if !known && errors.Is(err, ErrEndOfData) {
			break
		}
		if !known && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) || errors.Is(err, errNotArchive)) {
			d.log.Warn("skipping a damaged archive", "tape", label.ID, "file", n, "err", err)
			continue // a write that failed or a full tape; the catalogue never named it
		}
		if err != nil {
			return "", msg.Errorf("テープ %s のファイル %d を読めません: %w", "cannot read tape %s file %d: %w", label.ID, n, err)
		}
		self := rec.Files[len(rec.Files)-1]
		if self.Baseline {
			if err := os.RemoveAll(repo); err != nil {
				return "", err
			}
			files, bytes = 0, 0
		}
		if err := merge(incoming, repo, self.Removed); err != nil {
			return "", err
		}
		files += len(self.Entries)
		bytes += self.Bytes
		last = rec
	}
	if last == nil {
		return "", msg.Errorf("テープ %s にはバックアップがありません", "tape %s holds no backup", label.ID)
	}
	for p, e := range last.State() {
		fi, err := os.Stat(filepath.Join(repo, filepath.FromSlash(p)))
		if err != nil || fi.Size() != e.Size {
			return "", msg.Errorf("テープ %s から復元したリポジトリに %s が欠けています", "the repository read from tape %s lacks %s", label.ID, p)
		}
	}
	d.emit(Event{Kind: EventRestore, Medium: d.spec.Name, Tape: label.ID, File: last.Files[len(last.Files)-1].Number, Files: files, Bytes: bytes})
	return repo, nil
}

// merge moves the files of one archive into the repository and deletes
// the files the archive says were removed.
func merge(incoming, repo string, removed []string) error {
	if err := os.MkdirAll(repo, 0o700); err != nil {
		return err
	}
	err := filepath.WalkDir(incoming, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(incoming, p)
		target := filepath.Join(repo, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		return os.Rename(p, target)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, p := range removed {
		if err := os.Remove(filepath.Join(repo, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.RemoveAll(incoming)
}

// Detach rewinds and ejects the cartridge (MTOFFL) and, after a restore,
// removes the directory read back from tape.
func (d *Driver) Detach(ctx context.Context) error {
	err := d.unload()
	if d.restoring {
		err = errors.Join(err, os.RemoveAll(d.spec.restoreDir()))
	}
	return err
}

func (d *Driver) unload() error {
	if d.dev == nil {
		return nil
	}
	err := d.dev.Unload()
	d.ejected = err == nil
	err = errors.Join(err, d.dev.Close())
	d.dev = nil
	if err != nil {
		return msg.Errorf("テープ装置 %s からテープを取り出せません: %w", "cannot eject the tape from drive %s: %w", d.host, err)
	}
	id := ""
	if d.tape != nil {
		id = d.tape.ID
	}
	d.emit(Event{Kind: EventEject, Medium: d.spec.Name, Tape: id})
	return nil
}

// Ejected reports whether this session's cartridge was unloaded.
func (d *Driver) Ejected() bool { return d.ejected }

// WaitGone returns nil once the drive has disappeared after power-off.
func (d *Driver) WaitGone(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.spec.goneTimeout())
	defer cancel()
	t := time.NewTicker(d.poll)
	defer t.Stop()
	for d.host.Present() {
		select {
		case <-ctx.Done():
			return msg.Errorf("テープ装置 %s が切断後 %s たっても見えています", "tape drive %s is still present %s after the cut", d.host, d.spec.goneTimeout())
		case <-t.C:
		}
	}
	return nil
}
