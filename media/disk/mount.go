package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/internal/bytesize"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

const (
	// No device files, set-uid programs or executables on a backup medium,
	// and no access-time writes.
	mountFlags = unix.MS_NODEV | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NOATIME
	// An ext4 error makes the medium read-only instead of writing on.
	mountData    = "errors=remount-ro"
	maxMediaFile = 4096
)

// Mounted is the medium's filesystem, mounted and checked.
type Mounted struct {
	Device  Device `json:"device"`
	Dir     string `json:"dir"`  // mount point
	Repo    string `json:"repo"` // restic repository: <Dir>/restic
	MediaID string `json:"media_id"`
}

// Space is a filesystem's capacity in bytes.
type Space struct {
	Total uint64 `json:"total"`
	Free  uint64 `json:"free"`  // including blocks reserved for root
	Avail uint64 `json:"avail"` // what an unprivileged writer gets
}

// Mount mounts the medium read-only, checks its media-ID file, and only
// then makes it writable. A missing or different media ID unmounts it and
// returns a *MediaIDError: nothing is written to a disk that is not the
// medium. The device is re-identified first, since it may have been
// swapped since WaitAppear. (The kernel may still replay the ext4 journal
// of a volume whose serial/fs_uuid matched: that is the filesystem's own
// recovery, not a write by danzen.)
func (d *Driver) Mount(ctx context.Context, dev Device) (Mounted, error) {
	if err := ctx.Err(); err != nil {
		return Mounted{}, err
	}
	dir := d.spec.Dir()
	if err := d.readyToMount(dev, dir); err != nil {
		d.emit(Event{Kind: EventRefused, Device: dev.Name, Message: msg.TextOf(err)})
		return Mounted{}, err
	}
	if err := d.mountAt(dev, dir, unix.MS_RDONLY); err != nil {
		d.emit(Event{Kind: EventRefused, Device: dev.Name, Message: msg.TextOf(err)})
		return Mounted{}, err
	}
	id, err := readMediaID(dir)
	var refuse error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		refuse = &MediaIDError{Medium: d.spec.Name, Device: dev.Name, Expected: d.spec.MediaID, Missing: true}
	case err != nil:
		refuse = msg.Errorf("媒体 %s の媒体IDファイルを読めません。書き込まずに取り外します: %w", "cannot read medium %s's media-ID file; unmounting without writing: %w", d.spec.Name, err)
	case id != d.spec.MediaID:
		refuse = &MediaIDError{Medium: d.spec.Name, Device: dev.Name, Expected: d.spec.MediaID, Found: id}
	}
	if refuse == nil {
		// Make it writable only now that it is known to be the medium.
		if err := unix.Mount(dev.Path, dir, "ext4", mountFlags|unix.MS_REMOUNT, mountData); err != nil {
			refuse = msg.Errorf("媒体 %s を書き込み可能にできません(ファイルシステムのエラーの可能性): %w",
				"cannot make medium %s writable (filesystem errors?): %w", d.spec.Name, err)
		}
	}
	if refuse != nil {
		if uerr := d.unmount(dir); uerr != nil {
			refuse = errors.Join(refuse, uerr)
		}
		d.emit(Event{Kind: EventRefused, Device: dev.Name, Message: msg.TextOf(refuse)})
		return Mounted{}, refuse
	}
	m := Mounted{Device: dev, Dir: dir, Repo: filepath.Join(dir, RepoDir), MediaID: id}
	text := msg.Sprintf("%s を %s にマウントしました(媒体ID %s)", "mounted %s on %s (media ID %s)", dev.Name, dir, id)
	if sp, err := d.FreeSpace(m); err == nil {
		text = text.Append("", msg.Sprintf("、空き %s(全体 %s)", ", free %s of %s", bytesize.Format(sp.Avail), bytesize.Format(sp.Total)))
	}
	d.emit(Event{Kind: EventMounted, Device: dev.Name, Message: text})
	return m, nil
}

// Prepare writes the media-ID file onto a freshly formatted ext4 medium
// (mount, atomic write, unmount). mediaID "" means the spec's. A medium
// that already carries another media ID, or that holds files, is refused
// unless force is set: preparing must never take over another medium.
func (d *Driver) Prepare(ctx context.Context, dev Device, mediaID string, force bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if mediaID == "" {
		mediaID = d.spec.MediaID
	}
	if !safeName(mediaID) {
		return msg.Errorf("媒体ID %q は英数字と - _ . で64文字以内にしてください", "media ID %q: use 1–64 letters, digits, - _ .", mediaID)
	}
	dir := d.spec.Dir()
	if err := d.readyToMount(dev, dir); err != nil {
		d.emit(Event{Kind: EventRefused, Device: dev.Name, Message: msg.TextOf(err)})
		return err
	}
	if err := d.mountAt(dev, dir, 0); err != nil {
		return err
	}
	note, err := d.writeMediaID(dir, dev, mediaID, force)
	if uerr := d.unmount(dir); uerr != nil {
		err = errors.Join(err, uerr)
	}
	if err != nil {
		d.emit(Event{Kind: EventRefused, Device: dev.Name, Message: msg.TextOf(err)})
		return err
	}
	d.emit(Event{Kind: EventPrepared, Device: dev.Name, Message: msg.Sprintf("媒体ID %s を %s に書き込みました%s", "media ID %s written to %s%s",
		mediaID, dev, note)})
	return nil
}

// writeMediaID writes the media-ID file unless the medium must not be
// taken over; the note says how it went ("already prepared", "forced").
func (d *Driver) writeMediaID(dir string, dev Device, mediaID string, force bool) (note msg.Text, err error) {
	existing, err := readMediaID(dir)
	switch {
	case err == nil && existing == mediaID:
		return msg.T("(準備済み)", " (already prepared)"), nil
	case err == nil && !force:
		return note, &PrepareRefusedError{Medium: d.spec.Name, Device: dev.Name, Found: existing}
	case err == nil:
		note = msg.Sprintf("(強制指定、%q を置き換え)", " (forced, replacing %q)", existing)
	case !errors.Is(err, fs.ErrNotExist):
		return note, msg.Errorf("媒体IDファイルを読めません: %w", "cannot read the media-ID file: %w", err)
	case !force:
		ents, err := os.ReadDir(dir)
		if err != nil {
			return note, msg.Errorf("媒体の内容を確認できません: %w", "cannot list the medium: %w", err)
		}
		var extra []string
		for _, e := range ents {
			if e.Name() != "lost+found" {
				extra = append(extra, e.Name())
			}
		}
		if len(extra) > 0 {
			return note, &PrepareRefusedError{Medium: d.spec.Name, Device: dev.Name, Entries: extra}
		}
	default:
		note = msg.T("(強制指定)", " (forced)")
	}
	if err := atomicfile.Write(filepath.Join(dir, MediaIDFile), []byte(mediaID+"\n"), 0o644); err != nil {
		return note, msg.Errorf("媒体IDファイルを書き込めません: %w", "cannot write the media-ID file: %w", err)
	}
	if err := syncfs(dir); err != nil {
		return note, err
	}
	return note, nil
}

// readyToMount re-identifies dev and checks that neither the medium nor the
// mount directory is mounted already.
func (d *Driver) readyToMount(dev Device, dir string) error {
	s, err := d.scanOnce(nil, true)
	if err != nil {
		return err
	}
	changed := func(why msg.Text) error { return &ChangedError{Medium: d.spec.Name, Device: dev.Name, Why: why} }
	var match *volume
	for i, v := range s.matches {
		if v.name == dev.Name {
			match = &s.matches[i]
		}
	}
	switch {
	case len(s.matches) > 1:
		var names []string
		for _, v := range s.matches {
			names = append(names, v.name)
		}
		return &AmbiguousError{Medium: d.spec.Name, Expected: d.spec.expected(), Devices: names}
	case match == nil:
		return changed(msg.Sprintf("もう接続されていないか、%s に一致しません", "no longer present or no longer matching %s", d.spec.expected()))
	case match.major != dev.Major || match.minor != dev.Minor || match.diskSeq != dev.DiskSeq:
		return changed(msg.Sprintf("%[4]d:%[5]d diskseq %[6]d から %[1]d:%[2]d diskseq %[3]d に変わりました", "now %d:%d diskseq %d, was %d:%d diskseq %d",
			match.major, match.minor, match.diskSeq, dev.Major, dev.Minor, dev.DiskSeq))
	case match.sb.UUID != dev.FSUUID:
		return changed(msg.Sprintf("fs_uuid が %s に変わりました", "fs_uuid now %s", match.sb.UUID))
	}
	ms, err := d.mounts()
	if err != nil {
		return err
	}
	sameDisk := map[[2]uint32]string{}
	for _, b := range s.all {
		if b.disk == dev.Disk {
			sameDisk[[2]uint32{b.major, b.minor}] = b.name
		}
	}
	var at []string
	for _, m := range ms {
		if name, ok := sameDisk[[2]uint32{m.major, m.minor}]; ok {
			at = append(at, name+" on "+m.dir)
		} else if m.dir == dir {
			at = append(at, m.source+" on "+m.dir)
		}
	}
	if len(at) > 0 {
		return &AlreadyMountedError{Medium: d.spec.Name, Device: dev.Name, At: at}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return msg.Errorf("マウント先 %s を作れません: %w", "cannot create mount directory %s: %w", dir, err)
	}
	return nil
}

// mountAt mounts dev on dir and proves that what is now mounted there is
// dev (the node path is resolved by the kernel after our checks).
func (d *Driver) mountAt(dev Device, dir string, extra uintptr) error {
	if err := unix.Mount(dev.Path, dir, "ext4", mountFlags|extra, mountData); err != nil {
		return msg.Errorf("媒体 %s(%s)を %s に ext4 としてマウントできません: %w", "cannot mount medium %s (%s) as ext4 on %s: %w",
			d.spec.Name, dev.Name, dir, err)
	}
	if err := sameDevice(dir, dev); err != nil {
		return errors.Join(err, d.unmount(dir))
	}
	return nil
}

// sameDevice checks that dir is the root of dev's filesystem.
func sameDevice(dir string, dev Device) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if st.Dev != unix.Mkdev(dev.Major, dev.Minor) {
		return msg.Errorf("%s にマウントされているのは %s(%d:%d)ではありません(%d:%d があります)", "%s is not the mount of %s (%d:%d): found %d:%d",
			dir, dev.Name, dev.Major, dev.Minor, unix.Major(st.Dev), unix.Minor(st.Dev))
	}
	return nil
}

// unmount unmounts dir, never lazily: a busy mount stays and is reported.
func (d *Driver) unmount(dir string) error {
	err := unix.Unmount(dir, unix.UMOUNT_NOFOLLOW)
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EBUSY) {
		holders, subs := d.holders(dir)
		return &BusyError{Medium: d.spec.Name, Dir: dir, Holders: holders, Submounts: subs, Err: err}
	}
	return msg.Errorf("媒体 %s のマウント %s を外せません: %w", "cannot unmount medium %s at %s: %w", d.spec.Name, dir, err)
}

// readMediaID reads the media-ID file without following links or blocking
// on a FIFO planted in its place.
func readMediaID(dir string) (string, error) {
	f, err := os.OpenFile(filepath.Join(dir, MediaIDFile), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return "", msg.Errorf("%s はシンボリックリンクです", "%s is a symbolic link", MediaIDFile)
		}
		return "", err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", msg.Errorf("%s が通常ファイルではありません", "%s is not a regular file", MediaIDFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxMediaFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxMediaFile {
		return "", msg.Errorf("%s が大きすぎます", "%s is too large", MediaIDFile)
	}
	return strings.TrimSpace(string(b)), nil
}

func syncfs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	err = unix.Syncfs(int(f.Fd()))
	_ = f.Close() // a directory opened only to name the filesystem
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

// FreeSpace reports the mounted medium's capacity. It refuses when the
// directory is no longer the medium's mount, so a page never shows the
// root filesystem's numbers as the medium's.
func (d *Driver) FreeSpace(m Mounted) (Space, error) {
	if err := sameDevice(m.Dir, m.Device); err != nil {
		return Space{}, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(m.Dir, &st); err != nil {
		return Space{}, fmt.Errorf("statfs %s: %w", m.Dir, err)
	}
	bs := uint64(st.Bsize)
	return Space{Total: st.Blocks * bs, Free: st.Bfree * bs, Avail: st.Bavail * bs}, nil
}

// FullError returns err as a *DiskFullError (with the medium's space) when
// it means the medium is full, else err unchanged.
func (d *Driver) FullError(err error, m Mounted) error {
	if err == nil || !IsDiskFull(err) {
		return err
	}
	if _, ok := errors.AsType[*DiskFullError](err); ok {
		return err
	}
	sp, _ := d.FreeSpace(m)
	return &DiskFullError{Medium: d.spec.Name, Dir: m.Dir, Space: sp, Err: err}
}

// holders finds what keeps dir busy: processes with a file, directory or
// mapping inside it, and mounts below it. Best effort: it is only for the
// message.
func (d *Driver) holders(dir string) ([]Holder, []string) {
	inside := func(p string) bool {
		p = strings.TrimSuffix(p, " (deleted)")
		return p == dir || strings.HasPrefix(p, dir+"/")
	}
	var subs []string
	if ms, err := d.mounts(); err == nil {
		for _, m := range ms {
			if m.dir != dir && inside(m.dir) {
				subs = append(subs, m.dir)
			}
		}
	}
	procs, _ := os.ReadDir(d.opt.ProcRoot)
	var out []Holder
	for _, p := range procs {
		if len(out) >= 10 {
			break
		}
		pid := 0
		if _, err := fmt.Sscanf(p.Name(), "%d", &pid); err != nil || pid <= 0 {
			continue
		}
		base := filepath.Join(d.opt.ProcRoot, p.Name())
		comm := readString(filepath.Join(base, "comm"))
		found := ""
		for _, l := range []string{"cwd", "root", "exe"} {
			if t, err := os.Readlink(filepath.Join(base, l)); err == nil && inside(t) {
				found = t
				break
			}
		}
		if found == "" {
			fds, _ := os.ReadDir(filepath.Join(base, "fd"))
			for _, fd := range fds {
				if t, err := os.Readlink(filepath.Join(base, "fd", fd.Name())); err == nil && inside(t) {
					found = t
					break
				}
			}
		}
		if found == "" {
			if b, err := os.ReadFile(filepath.Join(base, "maps")); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if i := strings.IndexByte(line, '/'); i >= 0 && inside(line[i:]) {
						found = line[i:]
						break
					}
				}
			}
		}
		if found != "" && !slices.ContainsFunc(out, func(h Holder) bool { return h.PID == pid }) {
			out = append(out, Holder{PID: pid, Command: comm, Path: found})
		}
	}
	return out, subs
}
