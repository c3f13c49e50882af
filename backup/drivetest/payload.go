package drivetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/danzen-gw/danzen/backup/restic"
)

// payload is what a session writes and a later one reads back: a file of
// random bytes, stored as a restic snapshot when the rig has restic.
type payload struct {
	dir, name string
	content   []byte
	snapshot  string
}

func newPayload(t testing.TB) *payload {
	t.Helper()
	var id [6]byte
	p := &payload{dir: t.TempDir(), content: make([]byte, 64<<10)}
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := rand.Read(p.content); err != nil {
		t.Fatal(err)
	}
	p.name = "drivetest-" + hex.EncodeToString(id[:]) + ".bin"
	must(t, "write the payload", os.WriteFile(filepath.Join(p.dir, p.name), p.content, 0o600))
	return p
}

// write stores the payload at the repository location loc.
func (p *payload) write(t testing.TB, ctx context.Context, repo restic.Repo, loc string) {
	t.Helper()
	if repo.Binary == "" {
		must(t, "write a file at the repository location", os.WriteFile(filepath.Join(loc, p.name), p.content, 0o600))
		return
	}
	repo.Location = loc
	if _, err := repo.Snapshots(ctx); errors.Is(err, restic.ErrRepoMissing) {
		must(t, "restic init", repo.Init(ctx))
	} else {
		must(t, "restic snapshots", err)
	}
	res, err := repo.Backup(ctx, p.dir, []string{"drivetest"})
	must(t, "restic backup", err)
	if res.SnapshotID == "" {
		t.Fatal("restic backup wrote no snapshot")
	}
	p.snapshot = res.SnapshotID
}

// read requires the payload back from the repository location loc.
func (p *payload) read(t testing.TB, ctx context.Context, repo restic.Repo, loc string) {
	t.Helper()
	path := filepath.Join(loc, p.name)
	if repo.Binary != "" {
		repo.Location = loc
		target := t.TempDir()
		_, err := repo.Restore(ctx, p.snapshot, target)
		must(t, "restic restore of what the first session wrote", err)
		path = find(t, target, p.name)
	}
	got, err := os.ReadFile(path)
	must(t, "read back what the first session wrote", err)
	if !bytes.Equal(got, p.content) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(p.content))
	}
}

// find returns the path of the file called name below dir.
func find(t testing.TB, dir, name string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() == name {
			found = p
		}
		return err
	})
	must(t, "look through the restored files", err)
	if found == "" {
		t.Fatalf("the restore holds no %s", name)
	}
	return found
}
