package pull

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/config"
)

// Preview is what a pull of one source would do now, found by connecting
// and listing its export: the commissioning page's "Test". Nothing is
// written, not even the manifest, and no file is read.
type Preview struct {
	Source, Host, ExportDir string
	// Pull are the complete files the pull would stage, by path; those
	// the last pull staged unchanged are marked and need no transfer.
	Pull []PreviewFile
	// Pending are files not complete yet (no done-marker, or newer than
	// it): a pull now leaves them for the next night.
	Pending []Problem
	// Refused are what the pull leaves out: unsafe names, symbolic
	// links, special files.
	Refused []Problem
	// StableWait, for a source whose completion rule is "unchanged for a
	// while", is how long a real pull watches the files: those that
	// change meanwhile are left for the next night. A preview does not
	// wait, so every listed file is in Pull.
	StableWait time.Duration
}

// PreviewFile is one file a pull would stage.
type PreviewFile struct {
	Path      string
	Size      int64
	MTime     time.Time
	Unchanged bool // staged by the last pull as it is: nothing to transfer
}

// Bytes is the size of the files a pull would transfer (the unchanged
// ones need none).
func (p *Preview) Bytes() int64 {
	var n int64
	for _, f := range p.Pull {
		if !f.Unchanged {
			n += f.Size
		}
	}
	return n
}

// DryRun connects to src's server as a pull would (same key, pinned host
// key and checks), lists the export and applies the completion rule, and
// says what a pull would stage, leave out and leave pending. It reads the
// last manifest in opts.Staging, if any, and writes nothing.
func DryRun(ctx context.Context, src config.Source, opts Options) (*Preview, error) {
	c, err := Connect(ctx, src, opts.KeyFile)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }()                         // only listed: nothing to lose
	stop := context.AfterFunc(ctx, func() { _ = c.Close() }) // interrupts a blocked listing
	defer stop()
	l, err := list(ctx, c.sftp, &src)
	if err != nil {
		return nil, err
	}
	prev, err := LoadManifest(opts.Staging, src.Name)
	if err != nil {
		prev = nil // a damaged manifest only means everything is new
	}
	p := &Preview{Source: src.Name, Host: c.ssh.RemoteAddr().String(), ExportDir: src.ExportDir, Refused: l.refused}
	complete := sortedFiles(l)
	switch src.Completion.Mode {
	case config.CompletionMarker:
		complete, p.Pending = markerSelect(l, src.Completion)
	case config.CompletionStable:
		p.StableWait = src.Completion.StableFor.Std()
	}
	for _, f := range complete {
		e, ok := prev.Lookup(f.rel)
		p.Pull = append(p.Pull, PreviewFile{Path: f.rel, Size: f.size, MTime: f.mtime,
			Unchanged: ok && e.Size == f.size && e.MTime.Equal(f.mtime) && stagedSize(opts.Staging, src.Name, f.rel) == f.size})
	}
	return p, nil
}
