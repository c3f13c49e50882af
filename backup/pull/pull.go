// Package pull is the nightly cycle's first stage: it copies the e-chart
// export over SFTP into staging. It lists the export, applies the
// completion rule, transfers what changed over several connections
// (every file's size and SHA-256 checked), and writes the manifest that
// each snapshot carries and every restore is checked against.
//
// The gateway always connects to the e-chart server, never the reverse,
// with a read-only account and a pinned host key, so the server holds no
// credential that could reach the backups.
package pull

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// Options are what a pull needs besides the source itself.
type Options struct {
	Staging        string       // the staging directory
	KeyFile        string       // the client's private key, resolved
	BandwidthLimit config.Rate  // shared cap in bytes/s, 0 = none
	Events         func(Event)  // progress; may be nil
	Logger         *slog.Logger // may be nil
}

// IncompleteError is returned with a manifest when the pull finished but
// some files could not be staged; everything else was.
type IncompleteError struct {
	Source string
	Failed []Problem
}

// maxListed bounds how many failed files an IncompleteError names.
const maxListed = 10

// Localize names the failed files, each explained in l.
func (e *IncompleteError) Localize(l msg.Lang) string {
	var b strings.Builder
	b.WriteString(msg.Sprintf("取得元 %s: %d 件のファイルを取得できませんでした", "source %s: %d files could not be pulled",
		e.Source, len(e.Failed)).Localize(l) + ":")
	for i, p := range e.Failed {
		if i == maxListed {
			b.WriteString("\n  " + msg.Sprintf("… ほか %d 件", "… %d more", len(e.Failed)-maxListed).Localize(l))
			break
		}
		b.WriteString("\n  " + p.Path + ": " + p.Text.Localize(l))
	}
	return b.String()
}

func (e *IncompleteError) Error() string { return e.Localize(msg.Both) }

// Run copies the complete files of one source's export into staging and
// writes its manifest. A lost connection is retried (resuming partial
// files) up to src.Attempts times. It returns the new manifest, and an
// *IncompleteError when some files failed while the rest were staged.
func Run(ctx context.Context, src config.Source, opts Options) (*Manifest, error) {
	p, err := newPuller(&src, opts)
	if err != nil {
		return nil, err
	}
	p.emit(Event{Kind: EventStart, Message: msg.Plain(p.dialer.addr + ":" + src.ExportDir)})
	for attempt := 1; ; attempt++ {
		m, err := p.once(ctx)
		if err == nil || !isRetryable(err) || attempt >= src.Attempts || ctx.Err() != nil {
			if err != nil && isRetryable(err) {
				err = msg.Errorf("取得元 %s: %d 回試みましたが失敗しました: %w", "source %s: gave up after %d attempts: %w", src.Name, attempt, err)
			}
			return m, err
		}
		p.log.Warn("pull interrupted, reconnecting", "source", src.Name, "attempt", attempt, "err", err)
		p.emit(Event{Kind: EventRetry, Message: msg.TextOf(err)})
		select {
		case <-time.After(time.Duration(attempt) * 2 * time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// puller is one source's pull, across its attempts.
type puller struct {
	src    *config.Source
	opts   Options
	log    *slog.Logger
	dialer *dialer
}

func newPuller(src *config.Source, opts Options) (*puller, error) {
	d, err := newDialer(src, opts.KeyFile)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &puller{src: src, opts: opts, log: log, dialer: d}, nil
}

func (p *puller) emit(ev Event) {
	ev.Source = p.src.Name
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if p.opts.Events != nil {
		p.opts.Events(ev)
	}
}

// once is one attempt: connect, list, transfer, then record the result.
func (p *puller) once(ctx context.Context) (*Manifest, error) {
	start := time.Now()
	conns := &connSet{}
	defer conns.close()
	// Closing the connections is what interrupts blocked SFTP calls.
	stop := context.AfterFunc(ctx, conns.interrupt)
	defer stop()

	// The first connection alone proves the host key before anything else.
	first, err := conns.dial(ctx, p.dialer)
	if err != nil {
		return nil, err
	}
	p.log.Info("connected", "source", p.src.Name, "addr", p.dialer.addr, "cipher", first.Cipher())
	prev, err := LoadManifest(p.opts.Staging, p.src.Name)
	if err != nil {
		p.log.Warn("manifest unreadable, pulling everything", "err", err)
		prev = nil
	}
	l, complete, pending, err := p.selectComplete(ctx, first, prev)
	if err != nil {
		return nil, err
	}
	for i := 1; i < p.src.Connections; i++ {
		if _, err := conns.dial(ctx, p.dialer); err != nil {
			return nil, err
		}
	}
	m, todo := p.plan(start, prev, l, complete, pending)
	if err := p.transfer(ctx, conns.all(), prev, m, todo); err != nil {
		return nil, err
	}
	if err := p.mirror(l, m); err != nil {
		return nil, err
	}
	m.Tally.Removed = removed(prev, m, l)
	if err := p.finish(m, len(todo)); err != nil {
		return nil, err
	}
	if len(m.Failed) > 0 {
		return m, &IncompleteError{Source: p.src.Name, Failed: m.Failed}
	}
	return m, nil
}

// selectComplete lists the export and applies the completion rule. It
// returns the listing, the files that may be pulled, and the ones that
// are not complete yet.
func (p *puller) selectComplete(ctx context.Context, c *Conn, prev *Manifest) (*listing, []remoteFile, []Problem, error) {
	l, err := list(ctx, c.sftp, p.src)
	if err != nil {
		return nil, nil, nil, err
	}
	switch p.src.Completion.Mode {
	case config.CompletionMarker:
		complete, pending := markerSelect(l, p.src.Completion)
		return l, complete, pending, nil
	case config.CompletionStable:
		return p.stableSelect(ctx, c, prev, l)
	}
	return l, nil, nil, nil
}

// markerSelect applies the done-marker rule to every listed file.
func markerSelect(l *listing, c config.Completion) (complete []remoteFile, pending []Problem) {
	_, _, perFile := markerRule(c)
	for _, f := range sortedFiles(l) {
		if l.isMarker[f.rel] {
			complete = append(complete, f) // written last, by definition complete
			continue
		}
		if ok, why := l.markerComplete(f, perFile); ok {
			complete = append(complete, f)
		} else {
			pending = append(pending, why)
		}
	}
	return complete, pending
}

// stableSelect applies the stability rule: when anything differs from the
// last manifest, the export is listed again after StableFor and only the
// files whose size and mtime held still are complete.
func (p *puller) stableSelect(ctx context.Context, c *Conn, prev *Manifest, l *listing) (*listing, []remoteFile, []Problem, error) {
	changed := false
	for _, f := range l.files {
		if e, ok := prev.Lookup(f.rel); !ok || e.Size != f.size || !e.MTime.Equal(f.mtime) {
			changed = true
			break
		}
	}
	if !changed {
		return l, sortedFiles(l), nil, nil
	}
	wait := p.src.Completion.StableFor.Std()
	p.log.Info("waiting to see which files are stable", "source", p.src.Name, "for", wait)
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	}
	l2, err := list(ctx, c.sftp, p.src)
	if err != nil {
		return nil, nil, nil, err
	}
	var complete []remoteFile
	var pending []Problem
	for _, f := range sortedFiles(l2) {
		if old, ok := l.files[f.rel]; ok && old.same(f) {
			complete = append(complete, f)
		} else {
			pending = append(pending, Problem{Path: f.rel, Reason: "not-complete", Text: msg.Sprintf(
				"%s の間にサイズか更新時刻が変わったため、書き込み中とみなしました",
				"size or mtime changed within %s: still being written", wait)})
		}
	}
	return l2, complete, pending, nil
}

func sortedFiles(l *listing) []remoteFile {
	out := make([]remoteFile, 0, len(l.files))
	for _, f := range l.files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out
}

// plan starts the new manifest with what needs no transfer (unchanged
// files, and the staged version of a file whose new one is pending),
// announces what is refused or pending, and returns the files to
// transfer, biggest first: they use every connection, small ones fill
// the gaps.
func (p *puller) plan(start time.Time, prev *Manifest, l *listing, complete []remoteFile, pending []Problem) (*Manifest, []remoteFile) {
	m := &Manifest{Version: 1, Source: p.src.Name, Host: p.dialer.addr, ExportDir: p.src.ExportDir, Started: start,
		Pending: pending, Refused: l.refused}
	var todo []remoteFile
	for _, f := range complete {
		if e, ok := prev.Lookup(f.rel); ok && e.Size == f.size && e.MTime.Equal(f.mtime) && stagedSize(p.opts.Staging, p.src.Name, f.rel) == f.size {
			m.Files = append(m.Files, e)
			m.FilesUnchanged++
			m.Tally.Unchanged.add(e.Size)
			continue
		}
		todo = append(todo, f)
	}
	m.Files = append(m.Files, prev.entriesOf(pending)...)
	m.Files = append(m.Files, keptMarkers(p.src.Completion, prev, l, pending)...)
	for _, pr := range append(append([]Problem{}, l.refused...), pending...) {
		p.emit(Event{Kind: EventProblem, File: pr.Path, Message: pr.Text})
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].size > todo[j].size })
	for _, f := range todo {
		m.TotalBytes += f.size
	}
	p.emit(Event{Kind: EventListed, BytesTotal: m.TotalBytes, FilesTotal: len(todo)})
	return m, todo
}

// transfer moves todo into staging over conns and completes m with what
// arrived and what failed; a failed file keeps its staged version.
func (p *puller) transfer(ctx context.Context, conns []*Conn, prev, m *Manifest, todo []remoteFile) error {
	eng := newEngine(conns, p.src.ExportDir, DataDir(p.opts.Staging, p.src.Name),
		partialRoot(p.opts.Staging, p.src.Name), int64(p.opts.BandwidthLimit), p.emit)
	var filesDone atomic.Int64
	stopProgress := p.progress(eng, &filesDone, m.TotalBytes, len(todo))
	entries, failed, err := p.transferAll(ctx, eng, todo, &filesDone)
	stopProgress()
	if err != nil {
		return err
	}
	m.Files = append(m.Files, entries...)
	for _, e := range entries {
		m.Tally.Pulled.add(e.Size)
	}
	m.Failed = failed
	m.FilesTransferred = len(entries)
	m.BytesTransferred = eng.done.Load()
	m.Files = append(m.Files, prev.entriesOf(failed)...)
	return nil
}

// mirror removes, for a mirrored source, the staged files the source no
// longer has.
func (p *puller) mirror(l *listing, m *Manifest) error {
	if !p.src.Mirror {
		return nil
	}
	keep := map[string]bool{}
	for _, e := range m.Files {
		keep[e.Path] = true
	}
	for rel := range l.files {
		keep[rel] = true // present at the source, even if not staged this time
	}
	n, err := removeStale(DataDir(p.opts.Staging, p.src.Name), keep)
	if err != nil {
		return err
	}
	m.FilesRemoved = n
	return nil
}

// finish makes every staged file durable, then writes the manifest that
// says they are there.
func (p *puller) finish(m *Manifest, files int) error {
	// A pull that staged nothing (no complete file yet) still writes the
	// manifest that says so.
	if err := os.MkdirAll(DataDir(p.opts.Staging, p.src.Name), 0o755); err != nil {
		return localErr(err)
	}
	if err := syncStaging(p.opts.Staging); err != nil {
		return err
	}
	m.Finished = time.Now()
	if d := m.Finished.Sub(m.Started).Seconds(); d > 0 {
		m.RateBytesPerSec = float64(m.BytesTransferred) / d
	}
	if err := saveManifest(p.opts.Staging, m); err != nil {
		return localErr(err)
	}
	p.emit(Event{Kind: EventDone, BytesDone: m.BytesTransferred, BytesTotal: m.TotalBytes,
		FilesDone: m.FilesTransferred, FilesTotal: files, Rate: m.RateBytesPerSec})
	p.log.Info("pull done", "source", p.src.Name, "files", len(m.Files), "transferred", m.FilesTransferred,
		"bytes", m.BytesTransferred, "rate_MBps", m.RateBytesPerSec/1e6, "pending", len(m.Pending), "failed", len(m.Failed))
	return nil
}

// transferAll runs the workers. A file that changes while it is read is
// tried again (the exporter may have touched it) and then reported; a
// lost connection or a local disk error stops everything.
func (p *puller) transferAll(ctx context.Context, eng *engine, todo []remoteFile, filesDone *atomic.Int64) ([]FileEntry, []Problem, error) {
	results := make([]FileEntry, len(todo))
	problems := make([]*Problem, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.src.Workers)
	for i, f := range todo {
		g.Go(func() error {
			p.emit(Event{Kind: EventFileStart, File: f.rel, BytesTotal: f.size})
			e, err := p.fetchWithRetry(gctx, eng, f)
			switch {
			case err == nil:
				results[i] = e
				filesDone.Add(1)
				p.emit(Event{Kind: EventFileDone, File: f.rel, BytesDone: f.size, BytesTotal: f.size})
				return nil
			case errors.Is(err, errChanged) || errors.Is(err, errShort) || (!isRetryable(err) && !isLocal(err) && gctx.Err() == nil):
				pr := fileProblem(f.rel, err)
				problems[i] = &pr
				p.emit(Event{Kind: EventProblem, File: f.rel, Message: pr.Text})
				return nil
			default:
				return err
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var entries []FileEntry
	var failed []Problem
	for i := range todo {
		if problems[i] != nil {
			failed = append(failed, *problems[i])
		} else {
			entries = append(entries, results[i])
		}
	}
	return entries, failed, nil
}

// fileProblem explains why one file was not staged.
func fileProblem(rel string, err error) Problem {
	if errors.Is(err, errChanged) {
		return Problem{Path: rel, Reason: "changed", Text: msg.Sprintf(
			"転送中にファイルが変更されたため取り込みませんでした(%s)", "changed while it was transferred, not staged (%s)", err)}
	}
	return Problem{Path: rel, Reason: "failed", Text: msg.Sprintf("取得に失敗しました: %s", "transfer failed: %s", err)}
}

func (p *puller) fetchWithRetry(ctx context.Context, eng *engine, f remoteFile) (FileEntry, error) {
	const tries = 3
	for try := 1; ; try++ {
		e, err := eng.fetch(ctx, f)
		if err == nil || try == tries || !(errors.Is(err, errChanged) || errors.Is(err, errShort)) {
			return e, err
		}
		p.log.Warn("retrying file", "file", f.rel, "err", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return e, ctx.Err()
		}
		// Take the file as it is now, but only if the completion rule
		// still holds for it: a marker rule is re-checked by mtime.
		fi, serr := eng.pick().Lstat(path.Join(eng.exportDir, f.rel))
		if serr != nil {
			return e, remoteErr(f.rel, serr)
		}
		nf := remoteFile{rel: f.rel, size: fi.Size(), mtime: fi.ModTime()}
		if p.src.Completion.Mode == config.CompletionStable && !nf.same(f) {
			return e, err // a file that keeps changing is not stable
		}
		if p.src.Completion.Mode == config.CompletionMarker && nf.mtime.After(f.mtime) {
			return e, err // rewritten after its marker
		}
		f = nf
	}
}

// progress emits totals every progressPeriod until the returned func is called.
func (p *puller) progress(eng *engine, filesDone *atomic.Int64, total int64, files int) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressPeriod)
		defer t.Stop()
		last, lastT := int64(0), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				b := eng.done.Load()
				r := float64(b-last) / now.Sub(lastT).Seconds()
				last, lastT = b, now
				p.emit(Event{Kind: EventProgress, BytesDone: b, BytesTotal: total, FilesDone: int(filesDone.Load()), FilesTotal: files, Rate: r})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// stagedSize is the size of a staged file, or -1.
func stagedSize(staging, source, rel string) int64 {
	fi, err := os.Stat(filepath.Join(DataDir(staging, source), filepath.FromSlash(rel)))
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

// removeStale deletes staged files the source no longer has, and the
// directories that leaves empty.
func removeStale(root string, keep map[string]bool) (int, error) {
	var removed int
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." {
				dirs = append(dirs, p)
			}
			return nil
		}
		if !keep[filepath.ToSlash(rel)] {
			if err := os.Remove(p); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, localErr(err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i]) // fails, as intended, unless empty
	}
	return removed, nil
}

// syncStaging makes every staged file durable before the manifest says
// it is there: one syncfs instead of an fsync per file.
func syncStaging(staging string) error {
	f, err := os.Open(staging)
	if err != nil {
		return localErr(err)
	}
	defer func() { _ = f.Close() }() // opened only to name the filesystem
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return localErr(fmt.Errorf("syncfs %s: %w", staging, err))
	}
	return atomicfile.SyncDir(staging)
}
