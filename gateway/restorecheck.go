package gateway

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// maxMissingNamed bounds the files a refusal names.
const maxMissingNamed = 10

// checkRestoreFiles refuses, before any medium is powered, a restore of
// files the chosen snapshot does not hold. The snapshot is found in the
// ledger, and what it holds is the file list kept of the staged manifest
// it was taken of (backup.KeepFileList). When either is not known, the
// restore goes ahead and is checked against the restored manifest, as
// always: this never refuses a file the snapshot might hold.
func (g *Gateway) checkRestoreFiles(o RestoreOptions) error {
	if len(o.Files) == 0 {
		return nil
	}
	snaps, err := g.Snapshots(o.Medium)
	if err != nil {
		g.log.Warn("restore: snapshots not read from the ledger; the files are checked after the restore", "err", err)
		return nil
	}
	s, ok := chosenSnapshot(snaps, o.Snapshot, o.Source)
	if !ok {
		return nil
	}
	files, err := backup.KeptFileList(g.Config().StagingDir, s.Source, s.Cycle)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			g.log.Warn("restore: file list unreadable; the files are checked after the restore", "snapshot", s.ID, "err", err)
		}
		return nil
	}
	var missing []string
	for _, f := range o.Files {
		if _, found := slices.BinarySearch(files, f); !found {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := msg.Plain(strings.Join(missing[:min(len(missing), maxMissingNamed)], ", "))
	if len(missing) > maxMissingNamed {
		names = names.Append("", msg.Sprintf(" ほか %d 件", " and %d more", len(missing)-maxMissingNamed))
	}
	id := s.ID
	if len(id) > 8 {
		id = id[:8]
	}
	return msg.Errorf("スナップショット %s(取得元 %s)には次のファイルがありません: %s。媒体には給電していません。取得時の一覧(マニフェスト)にあるとおりのパスを指定してください",
		"snapshot %s (source %s) does not hold %s; no medium was powered. Give each path as the pull's list (the manifest) has it",
		id, s.Source, names)
}

// chosenSnapshot is the snapshot of snaps (newest first) a restore of id
// ("" or "latest": the newest, of source if given) means, matched as
// restic matches it.
func chosenSnapshot(snaps []SnapshotRecord, id, source string) (SnapshotRecord, bool) {
	for _, s := range snaps {
		switch {
		case id == "" || id == "latest":
			if source == "" || s.Source == source {
				return s, true
			}
		case s.ID == id || (len(id) >= 8 && strings.HasPrefix(s.ID, id)):
			return s, true
		}
	}
	return SnapshotRecord{}, false
}

// pruneFileLists drops the file lists of snapshots no configured medium
// holds any more. Nothing is removed when the ledger cannot be read.
func (g *Gateway) pruneFileLists() {
	cfg := g.Config()
	entries, err := ledger.Read(cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindSnapshot, ledger.KindForget}})
	if err != nil {
		g.log.Warn("file lists not pruned: the ledger cannot be read", "err", err)
		return
	}
	live := map[[2]string]bool{}
	for _, m := range cfg.Media {
		for _, s := range liveSnapshots(entries, m.Name) {
			live[[2]string{s.Source, s.Cycle}] = true
		}
	}
	if err := backup.PruneFileLists(cfg.StagingDir, func(source, cycle string) bool { return live[[2]string{source, cycle}] }); err != nil {
		g.log.Warn("file lists not all pruned", "err", err)
	}
}
