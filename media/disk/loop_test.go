package disk

// These tests drive real ext4 images on real loop devices (root needed):
// the kernel's sysfs, superblocks, mounts and unmounts are the real ones.

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/media/disk/looptest"
)

// medium is one test disk: an image behind a power switch, and a driver.
type medium struct {
	img   *looptest.Image
	power *looptest.Power
	drv   *Driver
	dir   string

	mu     sync.Mutex
	events []Event
}

func (m *medium) kinds() []EventKind {
	m.mu.Lock()
	defer m.mu.Unlock()
	var k []EventKind
	for _, e := range m.events {
		k = append(k, e.Kind)
	}
	return k
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newMedium creates an ext4 image with fsUUID and a driver whose spec
// expects spec (fs_uuid defaults to the image's). Cleanup unmounts and
// detaches even when the test fails.
func newMedium(t *testing.T, size int64, fsUUID string, spec Spec) *medium {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root for loop devices: make test runs it, -short skips it")
	}
	tmp := t.TempDir()
	img, err := looptest.CreateExt4(filepath.Join(tmp, "disk.img"), size, looptest.ImageOptions{UUID: fsUUID})
	if err != nil {
		t.Fatal(err)
	}
	m := &medium{img: img, power: looptest.NewPower(img.Path, testLogger(t)), dir: filepath.Join(tmp, "mnt")}
	t.Cleanup(func() {
		if err := m.power.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if spec.Name == "" {
		spec.Name = "usb1"
	}
	if spec.MediaID == "" {
		spec.MediaID = "HOSP-USB-01"
	}
	if spec.Serial == "" && spec.FSUUID == "" {
		spec.FSUUID = img.UUID
	}
	if spec.AppearTimeout == 0 {
		spec.AppearTimeout = Duration(5 * time.Second)
	}
	if spec.GoneTimeout == 0 {
		spec.GoneTimeout = Duration(5 * time.Second)
	}
	spec.MountDir = m.dir
	m.drv, err = New(spec, Options{
		Poll: 50 * time.Millisecond, Settle: 100 * time.Millisecond, Logger: testLogger(t),
		Events: func(e Event) { m.mu.Lock(); m.events = append(m.events, e); m.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupMount(t, m.dir) })
	return m
}

// cleanupMount unmounts a test's mount point. Only here, in test cleanup,
// is a lazy unmount acceptable, so that a failed test leaves nothing.
func cleanupMount(t *testing.T, dir string) {
	for range 5 {
		if !isMountPoint(t, dir) {
			return
		}
		if err := unix.Unmount(dir, 0); err != nil {
			t.Logf("cleanup unmount %s: %v", dir, err)
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		t.Errorf("cleanup: lazy unmount of %s: %v", dir, err)
	}
}

func isMountPoint(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && unescapeMount(f[4]) == dir {
			return true
		}
	}
	return false
}

// mountedAnywhere reports whether the block device major:minor is mounted.
func mountedAnywhere(t *testing.T, d *Driver, major, minor uint32) bool {
	t.Helper()
	ms, err := d.mounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ms {
		if e.major == major && e.minor == minor {
			return true
		}
	}
	return false
}

func fileHash(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func (m *medium) on(t *testing.T) {
	t.Helper()
	if err := m.power.SetPower(true); err != nil {
		t.Fatal(err)
	}
}

func (m *medium) off(t *testing.T) {
	t.Helper()
	if err := m.power.SetPower(false); err != nil {
		t.Fatal(err)
	}
}

// prepared powers the medium on, waits for it and writes its media ID.
func (m *medium) prepared(t *testing.T, ctx context.Context) Device {
	t.Helper()
	m.on(t)
	dev, err := m.drv.WaitAppear(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.drv.Prepare(ctx, dev, "", false); err != nil {
		t.Fatal(err)
	}
	return dev
}

func TestCycleOnLoop(t *testing.T) {
	ctx := t.Context()
	m := newMedium(t, 32<<20, "", Spec{})
	dev := m.prepared(t, ctx)
	if dev.Kind != "loop" || dev.FSUUID != m.img.UUID || dev.Disk != dev.Name || !strings.HasPrefix(dev.Name, "loop") {
		t.Fatalf("device = %+v", dev)
	}
	// Preparing again with the same ID changes nothing.
	if err := m.drv.Prepare(ctx, dev, "", false); err != nil {
		t.Fatalf("second Prepare: %v", err)
	}

	mnt, err := m.drv.Mount(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if mnt.Dir != m.dir || mnt.Repo != filepath.Join(m.dir, "restic") || mnt.MediaID != "HOSP-USB-01" {
		t.Fatalf("mounted = %+v", mnt)
	}
	if err := os.MkdirAll(mnt.Repo, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt.Repo, "config"), []byte("snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkMountOptions(t, m.drv, mnt)

	rep, err := m.drv.Detach(ctx, mnt)
	if err != nil {
		t.Fatalf("Detach: %v\n%+v", err, rep)
	}
	checkLoopDetach(t, rep)
	if rep.StillMounted || isMountPoint(t, m.dir) {
		t.Fatal("still mounted after Detach")
	}
	if _, err := m.drv.FreeSpace(mnt); err == nil {
		t.Fatal("FreeSpace on an unmounted medium must fail, not report the parent filesystem")
	}

	m.off(t)
	if err := m.drv.WaitGone(ctx); err != nil {
		t.Fatalf("WaitGone: %v", err)
	}

	// Next night: the data is still there.
	m.on(t)
	dev2, err := m.drv.WaitAppear(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dev2.DiskSeq == dev.DiskSeq && dev.DiskSeq != 0 {
		t.Errorf("re-attached device kept diskseq %d", dev.DiskSeq)
	}
	mnt2, err := m.drv.Mount(ctx, dev2)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(mnt2.Repo, "config")); err != nil || string(b) != "snapshot" {
		t.Fatalf("data after a power cycle: %q, %v", b, err)
	}
	// A Device from an earlier power cycle is refused: it may be another disk by now.
	if _, err := m.drv.Mount(ctx, dev); err == nil {
		t.Fatal("Mount accepted a stale Device")
	}
	if _, err := m.drv.Detach(ctx, mnt2); err != nil {
		t.Fatal(err)
	}
	m.off(t)
	if err := m.drv.WaitGone(ctx); err != nil {
		t.Fatal(err)
	}

	k := m.kinds()
	for _, want := range []EventKind{EventWaiting, EventAppeared, EventPrepared, EventMounted, EventDetachStep, EventUnmounted, EventGone} {
		if !slices.Contains(k, want) {
			t.Errorf("no %s event in %v", want, k)
		}
	}
}

// checkMountOptions checks that mnt is mounted nodev, nosuid, noexec,
// noatime and read-write, and that its space can be read.
func checkMountOptions(t *testing.T, drv *Driver, mnt Mounted) {
	t.Helper()
	var sfs unix.Statfs_t
	if err := unix.Statfs(mnt.Dir, &sfs); err != nil {
		t.Fatal(err)
	}
	want := int64(unix.ST_NODEV | unix.ST_NOSUID | unix.ST_NOEXEC | unix.ST_NOATIME)
	if sfs.Flags&want != want || sfs.Flags&unix.ST_RDONLY != 0 {
		t.Fatalf("mount flags %#x, want %#x and read-write", sfs.Flags, want)
	}
	sp, err := drv.FreeSpace(mnt)
	if err != nil || sp.Total == 0 || sp.Avail == 0 || sp.Avail > sp.Total {
		t.Fatalf("FreeSpace = %+v, %v", sp, err)
	}
}

// checkLoopDetach checks a loop device's detach report: the filesystem
// steps done, the SCSI ones not applicable, saying why.
func checkLoopDetach(t *testing.T, rep DetachReport) {
	t.Helper()
	for step, want := range map[string]StepStatus{
		StepSyncFS: StepDone, StepUnmount: StepDone, StepFlush: StepDone,
		StepSyncCache: StepNotApplicable, StepStop: StepNotApplicable, StepDelete: StepNotApplicable,
	} {
		s, ok := rep.Step(step)
		if !ok || s.Status != want {
			t.Errorf("step %s = %+v, want %s", step, s, want)
		}
		if want == StepNotApplicable && !strings.Contains(s.Detail.EN, "not a SCSI device (loop)") {
			t.Errorf("step %s detail %q does not say why", step, s.Detail)
		}
	}
}

func TestWrongDiskIsNeverMounted(t *testing.T) {
	ctx := t.Context()
	expected := looptest.NewUUID()
	m := newMedium(t, 16<<20, "", Spec{FSUUID: expected, AppearTimeout: Duration(time.Second), GoneTimeout: Duration(300 * time.Millisecond)})
	before := fileHash(t, m.img.Path)
	// Disks attached before the power-on (other tests' loop devices on a
	// shared machine) are not this relay's.
	if err := m.drv.BeforePowerOn(); err != nil {
		t.Fatal(err)
	}
	m.on(t)
	start := time.Now()
	_, err := m.drv.WaitAppear(ctx)
	var dd *DifferentDiskError
	if !errors.As(err, &dd) {
		t.Fatalf("WaitAppear = %v, want *DifferentDiskError", err)
	}
	if time.Since(start) < time.Second {
		t.Errorf("gave up before the appear timeout: %s", time.Since(start))
	}
	text := err.Error()
	for _, want := range []string{"別のディスクが接続されています", "a different disk is connected", "fs_uuid " + m.img.UUID, "expected fs_uuid " + expected} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	l := m.power.Loop()
	var st unix.Stat_t
	if err := unix.Stat(l.Path, &st); err != nil {
		t.Fatal(err)
	}
	if mountedAnywhere(t, m.drv, unix.Major(st.Rdev), unix.Minor(st.Rdev)) {
		t.Fatal("the wrong disk is mounted")
	}
	// Even a Device naming the wrong disk is refused by Mount and Prepare.
	forged := Device{Name: l.Name, Disk: l.Name, Path: l.Path, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), FSUUID: m.img.UUID, Kind: "loop"}
	if _, err := m.drv.Mount(ctx, forged); err == nil {
		t.Fatal("Mount accepted the wrong disk")
	}
	if err := m.drv.Prepare(ctx, forged, "", true); err == nil {
		t.Fatal("Prepare accepted the wrong disk")
	}
	if mountedAnywhere(t, m.drv, unix.Major(st.Rdev), unix.Minor(st.Rdev)) {
		t.Fatal("the wrong disk is mounted")
	}
	// WaitGone also waits for the wrong disk that was connected.
	if err := m.drv.WaitGone(ctx); err == nil {
		t.Fatal("WaitGone succeeded while the wrong disk is still connected")
	}
	m.off(t)
	if err := m.drv.WaitGone(ctx); err != nil {
		t.Fatal(err)
	}
	if fileHash(t, m.img.Path) != before {
		t.Fatal("the wrong disk's image was modified")
	}
	var mismatch bool
	for _, k := range m.kinds() {
		mismatch = mismatch || k == EventMismatch
	}
	if !mismatch {
		t.Error("no mismatch event")
	}
}

// A disk that was already there before the power-on (a USB stick left in
// the appliance) is neither blamed as "a different disk" nor waited for.
func TestPreexistingDiskIsNotBlamed(t *testing.T) {
	ctx := t.Context()
	m := newMedium(t, 8<<20, "", Spec{AppearTimeout: Duration(500 * time.Millisecond), GoneTimeout: Duration(300 * time.Millisecond)})
	m.power.SetMode(looptest.NeverAppears)
	stick, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "stick.img"), 4<<20, looptest.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp := looptest.NewPower(stick.Path, nil)
	t.Cleanup(func() {
		if err := sp.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := sp.SetPower(true); err != nil {
		t.Fatal(err)
	}
	if err := m.drv.BeforePowerOn(); err != nil {
		t.Fatal(err)
	}
	m.on(t)
	_, err = m.drv.WaitAppear(ctx)
	var na *NotAppearedError
	var dd *DifferentDiskError
	if !errors.As(err, &na) && !errors.As(err, &dd) {
		t.Fatalf("WaitAppear = %v", err)
	}
	// Only another process attaching a loop during the wait could make it a
	// DifferentDiskError here; the stick must never be in it.
	if strings.Contains(err.Error(), stick.UUID) {
		t.Fatalf("the pre-existing disk is blamed: %v", err)
	}
	m.off(t)
	if err := m.drv.WaitGone(ctx); err != nil && strings.Contains(err.Error(), sp.Loop().Name+" ") {
		t.Fatalf("WaitGone waits for the pre-existing disk: %v", err)
	}
}

func TestNeverAppears(t *testing.T) {
	m := newMedium(t, 8<<20, "", Spec{AppearTimeout: Duration(500 * time.Millisecond)})
	m.power.SetMode(looptest.NeverAppears)
	m.on(t)
	_, err := m.drv.WaitAppear(t.Context())
	var na *NotAppearedError
	var dd *DifferentDiskError
	switch {
	case errors.As(err, &na):
		if !strings.Contains(err.Error(), "did not appear within 500ms") {
			t.Errorf("message: %s", err)
		}
	case errors.As(err, &dd):
		// Another process's loop device may be attached on a shared machine;
		// it must not be taken for this medium.
		if strings.Contains(err.Error(), "fs_uuid "+m.img.UUID+" ") {
			t.Fatalf("the medium itself is reported: %v", err)
		}
	default:
		t.Fatalf("WaitAppear = %v, want *NotAppearedError", err)
	}
}

func TestMediaIDChecks(t *testing.T) {
	ctx := t.Context()
	m := newMedium(t, 16<<20, "", Spec{MediaID: "HOSP-USB-01"})
	m.on(t)
	if _, err := m.drv.WaitAppear(ctx); err != nil {
		t.Fatal(err)
	}

	// Never prepared: refused, unmounted, not a byte written.
	m.off(t)
	before := fileHash(t, m.img.Path)
	m.on(t)
	dev, err := m.drv.WaitAppear(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.drv.Mount(ctx, dev)
	var mid *MediaIDError
	if !errors.As(err, &mid) || !mid.Missing {
		t.Fatalf("Mount of an unprepared medium = %v, want *MediaIDError (missing)", err)
	}
	if !strings.Contains(err.Error(), "媒体IDファイル .danzen-media-id がありません") || !strings.Contains(err.Error(), "has no media-ID file") {
		t.Errorf("message: %s", err)
	}
	if isMountPoint(t, m.dir) || mountedAnywhere(t, m.drv, dev.Major, dev.Minor) {
		t.Fatal("refused medium left mounted")
	}
	m.off(t)
	if fileHash(t, m.img.Path) != before {
		t.Fatal("the refused medium was written to")
	}

	// Prepared for another medium: refused as a different media ID.
	m.on(t)
	if dev, err = m.drv.WaitAppear(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.drv.Prepare(ctx, dev, "HOSP-USB-02", false); err != nil {
		t.Fatal(err)
	}
	_, err = m.drv.Mount(ctx, dev)
	if !errors.As(err, &mid) || mid.Missing || mid.Found != "HOSP-USB-02" {
		t.Fatalf("Mount = %v, want *MediaIDError found HOSP-USB-02", err)
	}
	if !strings.Contains(err.Error(), `expected "HOSP-USB-01"`) || isMountPoint(t, m.dir) {
		t.Fatalf("message or mount state wrong: %v", err)
	}

	// Re-preparing it needs force.
	var pr *PrepareRefusedError
	if err := m.drv.Prepare(ctx, dev, "", false); !errors.As(err, &pr) || pr.Found != "HOSP-USB-02" {
		t.Fatalf("Prepare over another ID = %v, want *PrepareRefusedError", err)
	}
	if err := m.drv.Prepare(ctx, dev, "", true); err != nil {
		t.Fatal(err)
	}
	mnt, err := m.drv.Mount(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	// A medium holding files but no ID is not "fresh": Prepare refuses it.
	if err := os.Remove(filepath.Join(mnt.Dir, MediaIDFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt.Dir, "other-data"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := m.drv.Detach(ctx, mnt); err != nil {
		t.Fatal(err)
	}
	if err := m.drv.Prepare(ctx, dev, "", false); !errors.As(err, &pr) || len(pr.Entries) != 1 || pr.Entries[0] != "other-data" {
		t.Fatalf("Prepare of a non-empty medium = %v, want *PrepareRefusedError naming other-data", err)
	}
	if isMountPoint(t, m.dir) {
		t.Fatal("Prepare left the medium mounted")
	}
}

func TestBusyUnmountIsReported(t *testing.T) {
	ctx := t.Context()
	m := newMedium(t, 16<<20, "", Spec{})
	dev := m.prepared(t, ctx)
	mnt, err := m.drv.Mount(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	held, err := os.Create(filepath.Join(mnt.Dir, "held-open"))
	if err != nil {
		t.Fatal(err)
	}
	// Closed below; this is for a test that stops before.
	t.Cleanup(func() { _ = held.Close() })

	rep, err := m.drv.Detach(ctx, mnt)
	var busy *BusyError
	if !errors.As(err, &busy) || !errors.Is(err, unix.EBUSY) {
		t.Fatalf("Detach = %v, want *BusyError wrapping EBUSY", err)
	}
	if !rep.StillMounted {
		t.Error("report does not say the medium is still mounted")
	}
	if s, _ := rep.Step(StepUnmount); s.Status != StepFailed {
		t.Errorf("unmount step = %+v", s)
	}
	for _, n := range []string{StepFlush, StepSyncCache, StepStop, StepDelete} {
		if s, _ := rep.Step(n); s.Status != StepSkipped {
			t.Errorf("step %s = %+v, want skipped", n, s)
		}
	}
	found := false
	for _, h := range busy.Holders {
		found = found || (h.PID == os.Getpid() && strings.HasSuffix(h.Path, "held-open"))
	}
	if !found {
		t.Errorf("holders %+v do not name this process and the open file", busy.Holders)
	}
	if !strings.Contains(err.Error(), "held-open") || !strings.Contains(err.Error(), "外せません") {
		t.Errorf("message: %s", err)
	}
	// Not detached lazily: the mount is still there and still usable.
	if !isMountPoint(t, m.dir) {
		t.Fatal("the mount point disappeared: lazily detached")
	}
	if _, err := held.WriteString("still writable"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.drv.FreeSpace(mnt); err != nil {
		t.Fatalf("FreeSpace on the still-mounted medium: %v", err)
	}

	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.drv.Detach(ctx, mnt); err != nil {
		t.Fatalf("Detach after closing: %v", err)
	}
	m.off(t)
	if err := m.drv.WaitGone(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStillPresentAfterPowerOff(t *testing.T) {
	ctx := t.Context()
	m := newMedium(t, 8<<20, "", Spec{GoneTimeout: Duration(500 * time.Millisecond)})
	m.power.SetMode(looptest.NeverDisappears)
	dev := m.prepared(t, ctx)
	mnt, err := m.drv.Mount(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.drv.Detach(ctx, mnt); err != nil {
		t.Fatal(err)
	}
	m.off(t) // the welded relay keeps the disk attached
	start := time.Now()
	err = m.drv.WaitGone(ctx)
	var sp *StillPresentError
	if !errors.As(err, &sp) {
		t.Fatalf("WaitGone = %v, want *StillPresentError", err)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Error("gave up before the gone timeout")
	}
	if !strings.Contains(err.Error(), "NOT offline") || !strings.Contains(err.Error(), "オフラインではありません") || !strings.Contains(err.Error(), dev.Name) {
		t.Errorf("message: %s", err)
	}
	var ev bool
	for _, k := range m.kinds() {
		ev = ev || k == EventStillPresent
	}
	if !ev {
		t.Error("no still-present event")
	}
	// Once it really goes, WaitGone confirms it.
	if err := m.power.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.drv.WaitGone(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDiskFull(t *testing.T) {
	ctx := t.Context()
	m := newMedium(t, 4<<20, "", Spec{})
	dev := m.prepared(t, ctx)
	mnt, err := m.drv.Mount(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(mnt.Dir, "pack"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	for i := 0; i < 64 && err == nil; i++ { // at most 16 MiB into a 4 MiB medium
		if _, err = f.Write(buf); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("writing past capacity: %v, want ENOSPC", err)
	}
	if !IsDiskFull(err) {
		t.Fatal("IsDiskFull(ENOSPC) = false")
	}
	full := m.drv.FullError(err, mnt)
	var df *DiskFullError
	if !errors.As(full, &df) || !errors.Is(full, unix.ENOSPC) {
		t.Fatalf("FullError = %v", full)
	}
	if !strings.HasPrefix(msg.In(full, msg.JA), "媒体の空き容量がありません") || !strings.HasPrefix(msg.In(full, msg.EN), "the medium is full") {
		t.Errorf("message: %s", full)
	}
	// restic reports it as text from another process.
	if !IsDiskFull(errors.New("Fatal: unable to save snapshot: write /x: no space left on device")) || IsDiskFull(errors.New("permission denied")) {
		t.Error("IsDiskFull text matching is wrong")
	}
	if _, err := m.drv.Detach(ctx, mnt); err != nil {
		t.Fatal(err)
	}
}

func TestSGIOOnLoopIsNotSCSI(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root for loop devices: make test runs it, -short skips it")
	}
	img, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "d.img"), 4<<20, looptest.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := looptest.Attach(img.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Detach(); err != nil {
			t.Error(err)
		}
	})
	f, err := os.OpenFile(l.Path, os.O_RDWR|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // ioctls only
	for _, err := range []error{syncCache(int(f.Fd())), stopUnit(int(f.Fd()), false)} {
		if !errors.Is(err, ErrNotSCSI) || !errors.Is(err, unix.EINVAL) {
			t.Errorf("SG_IO on a loop device = %v, want ErrNotSCSI wrapping EINVAL", err)
		}
	}
}

// The netlink listener wakes the scanner when a disk comes or goes.
func TestUeventWakesOnAttach(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root for loop devices: make test runs it, -short skips it")
	}
	img, err := looptest.CreateExt4(filepath.Join(t.TempDir(), "d.img"), 4<<20, looptest.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, stop, err := listenUevents()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	l, err := looptest.Attach(img.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Detach(); err != nil {
			t.Error(err)
		}
	})
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("no uevent within 2s of attaching a loop device")
	}
}
