package ledger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"

	"golang.org/x/sys/unix"
)

// smallDisk mounts a tmpfs of size bytes (a nearly full /perm in small).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a tmpfs, which needs root: make test runs it, -short skips it")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount a small tmpfs (tests run as root under make test): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	return dir
}

func closeT(t *testing.T, l *Ledger) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

// fill writes a file until the disk is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The disk fills up while a medium is powered: appends go on from the
// reserve, Room says no more power-ons, and once there is space again the
// reserve is set aside anew. The chain verifies throughout.
func TestReserveKeepsRecordingOnFullDisk(t *testing.T) {
	disk := smallDisk(t, "4m")
	dir := filepath.Join(disk, "ledger")
	l, err := OpenWith(dir, Options{Now: newClock().Now, Reserve: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, l)
	if err := l.Room(); err != nil {
		t.Fatalf("room on an empty disk: %v", err)
	}
	appendN(t, l, 3)
	fill(t, disk)

	// The power-on and everything up to the cut must still be stored.
	for i := range 200 {
		if _, err := l.Append(context.Background(), Entry{Kind: "power.on", Medium: "disk-a", Message: msg.Legacy("entry on a full disk")}); err != nil {
			t.Fatalf("append %d on a full disk: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ReserveFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the reserve is still there after a full disk: %v", err)
	}
	err = l.Room()
	if !errors.Is(err, ErrNoRoom) {
		t.Fatalf("Room on a full disk: %v, want ErrNoRoom", err)
	}
	t.Logf("full disk: %v", err)

	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	if err := l.Room(); err != nil {
		t.Fatalf("room after freeing space: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ReserveFileName)); err != nil || fi.Size() != 1<<20 {
		t.Errorf("the reserve was not set aside again: %v", err)
	}
	if rep, err := Verify(dir); err != nil || rep.Entries != 203 {
		t.Errorf("verify: %v %+v", err, rep)
	}
}

// A disk already full at start: the ledger opens (the media must still be
// cut and that recorded), Room refuses.
func TestOpenOnFullDisk(t *testing.T) {
	disk := smallDisk(t, "2m")
	dir := filepath.Join(disk, "ledger")
	l, err := OpenWith(dir, Options{Now: newClock().Now, Reserve: -1})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 2)
	closeT(t, l)
	fill(t, disk)
	l, err = OpenWith(dir, Options{Now: newClock().Now, Reserve: 1 << 20})
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	defer closeT(t, l)
	if err := l.Room(); !errors.Is(err, ErrNoRoom) {
		t.Errorf("Room: %v, want ErrNoRoom", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ReserveFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a partial reserve was left: %v", err)
	}
}
