package disk

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Candidate is a disk that was seen but is not the expected medium.
type Candidate struct {
	Name    string   `json:"name"` // whole disk, e.g. "sdb", "loop3"
	Serials []string `json:"serials,omitempty"`
	FSUUIDs []string `json:"fs_uuids,omitempty"`
	Size    int64    `json:"size"`
	Model   string   `json:"model,omitempty"`
}

func (c Candidate) String() string {
	var p []string
	if len(c.Serials) > 0 {
		p = append(p, "serial "+c.Serials[0])
	}
	if len(c.FSUUIDs) > 0 {
		p = append(p, "fs_uuid "+strings.Join(c.FSUUIDs, ","))
	} else {
		p = append(p, "no ext4")
	}
	if c.Model != "" {
		p = append(p, c.Model)
	}
	return c.Name + ": " + strings.Join(p, " ")
}

// NotAppearedError: nothing that could be the medium appeared in time.
type NotAppearedError struct {
	Medium   string
	Expected string // "serial X fs_uuid Y"
	Timeout  time.Duration
	// Unformatted names disks whose serial matches but which carry no ext4
	// filesystem (new, or formatted with another filesystem).
	Unformatted []string
}

func (e *NotAppearedError) Error() string { return e.Localize(msg.Both) }

// Localize says what to check, in l.
func (e *NotAppearedError) Localize(l msg.Lang) string {
	if len(e.Unformatted) > 0 {
		return msg.Sprintf("媒体 %s(%s)のディスク %s は接続されていますが ext4 ファイルシステムがありません。媒体を ext4 で初期化してから準備(prepare)してください",
			"medium %s (%s): disk %s is connected but carries no ext4 filesystem: format it as ext4, then prepare it",
			e.Medium, e.Expected, strings.Join(e.Unformatted, ", ")).Localize(l)
	}
	return msg.Sprintf("媒体 %s(%s)が %s 以内に接続されませんでした。電源リレー、ケーブル、媒体の挿入を確認してください",
		"medium %s (%s) did not appear within %s: check the power relay, the cable and that the medium is inserted",
		e.Medium, e.Expected, e.Timeout).Localize(l)
}

// DifferentDiskError: disks appeared, but none is the expected medium.
// Nothing was mounted or written.
type DifferentDiskError struct {
	Medium   string
	Expected string
	Found    []Candidate
}

func (e *DifferentDiskError) Error() string { return e.Localize(msg.Both) }

// Localize names the disks found and the medium wanted, in l.
func (e *DifferentDiskError) Localize(l msg.Lang) string {
	var f []string
	for _, c := range e.Found {
		f = append(f, c.String())
	}
	return msg.Sprintf("別のディスクが接続されています(%s、期待値 %s)。このディスクには書き込みません。媒体 %s を接続してください",
		"a different disk is connected: %s, expected %s; nothing was written to it: connect medium %s",
		strings.Join(f, "; "), e.Expected, e.Medium).Localize(l)
}

// AmbiguousError: more than one device matches; none is used.
type AmbiguousError struct {
	Medium   string
	Expected string
	Devices  []string
}

func (e *AmbiguousError) Error() string { return e.Localize(msg.Both) }

// Localize names the matching devices and how to narrow the match, in l.
func (e *AmbiguousError) Localize(l msg.Lang) string {
	return msg.Sprintf("媒体 %s の識別子(%s)に一致するデバイスが複数あります(%s)。取り違えを避けるため使用しません。fs_uuid で一つに絞り、複製したディスクには別の fs_uuid を付けてください",
		"several devices match medium %s (%s): %s; none is used, to avoid taking the wrong one: narrow it with fs_uuid, and give cloned disks their own fs_uuid",
		e.Medium, e.Expected, strings.Join(e.Devices, ", ")).Localize(l)
}

// ChangedError: the device is no longer the one WaitAppear identified
// (unplugged, swapped, reformatted in between).
type ChangedError struct {
	Medium string
	Device string
	Why    msg.Text
}

func (e *ChangedError) Error() string { return e.Localize(msg.Both) }

// Localize says what changed, in l.
func (e *ChangedError) Localize(l msg.Lang) string {
	return msg.Sprintf("媒体 %s のデバイス %s が識別後に変わりました(%s)。使用しません。もう一度接続を待ってください",
		"medium %s: device %s changed after it was identified (%s); it is not used: wait for it again",
		e.Medium, e.Device, e.Why).Localize(l)
}

// AlreadyMountedError: the medium or the mount directory is in use already.
type AlreadyMountedError struct {
	Medium string
	Device string
	At     []string // where the device is mounted, or what is mounted on the directory
}

func (e *AlreadyMountedError) Error() string { return e.Localize(msg.Both) }

// Localize says what is mounted where, in l.
func (e *AlreadyMountedError) Localize(l msg.Lang) string {
	return msg.Sprintf("媒体 %s(%s)はすでにマウントされているか、マウント先が使用中です(%s)。前回の処理が残っている可能性があります。取り外してから再実行してください",
		"medium %s (%s) is already mounted, or its mount directory is in use (%s); a previous run may have left it: detach it, then retry",
		e.Medium, e.Device, strings.Join(e.At, ", ")).Localize(l)
}

// MediaIDError: the filesystem matched, but the media-ID file is missing
// or names another medium. The filesystem was unmounted without a write.
type MediaIDError struct {
	Medium   string
	Device   string
	Expected string
	Found    string // empty when Missing
	Missing  bool
}

func (e *MediaIDError) Error() string { return e.Localize(msg.Both) }

// Localize says which media ID was found, in l.
func (e *MediaIDError) Localize(l msg.Lang) string {
	if e.Missing {
		return msg.Sprintf("媒体 %s(%s)に媒体IDファイル %s がありません。未準備か別の媒体です。書き込まずに取り外しました",
			"medium %s (%s) has no media-ID file %s: it was never prepared, or it is another medium; unmounted without writing",
			e.Medium, e.Device, MediaIDFile).Localize(l)
	}
	return msg.Sprintf("媒体 %s(%s)の媒体IDが %q です(期待値 %q)。別の媒体です。書き込まずに取り外しました",
		"medium %s (%s) carries media ID %q, expected %q: it is another medium; unmounted without writing",
		e.Medium, e.Device, e.Found, e.Expected).Localize(l)
}

// PrepareRefusedError: Prepare found a medium that is not fresh.
type PrepareRefusedError struct {
	Medium  string
	Device  string
	Found   string   // media ID already on the medium, if any
	Entries []string // unexpected entries at the filesystem root
}

func (e *PrepareRefusedError) Error() string { return e.Localize(msg.Both) }

// Localize says what the medium already holds, in l.
func (e *PrepareRefusedError) Localize(l msg.Lang) string {
	if e.Found != "" {
		return msg.Sprintf("媒体 %s(%s)にはすでに媒体ID %q があります。別の媒体のバックアップを消さないよう、上書きは強制指定が必要です",
			"medium %s (%s) already carries media ID %q; overwriting it needs force, so that another medium's backups are not taken over",
			e.Medium, e.Device, e.Found).Localize(l)
	}
	return msg.Sprintf("媒体 %s(%s)は空ではありません(%s)。準備できるのは初期化直後の ext4 媒体だけです(強制指定で続行できます)",
		"medium %s (%s) is not empty (%s): only a freshly formatted ext4 medium is prepared (force overrides)",
		e.Medium, e.Device, strings.Join(e.Entries, ", ")).Localize(l)
}

// Holder is a process that keeps a mount busy.
type Holder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Path    string `json:"path"` // file, cwd or mapping inside the mount
}

// BusyError: the filesystem could not be unmounted because it is in use.
// It is still mounted (never detached lazily); errors.Is(err, unix.EBUSY).
type BusyError struct {
	Medium    string
	Dir       string
	Holders   []Holder
	Submounts []string
	Err       error
}

func (e *BusyError) Error() string { return e.Localize(msg.Both) }

// Localize names what holds the mount, in l.
func (e *BusyError) Localize(l msg.Lang) string {
	var why []msg.Text
	for _, h := range e.Holders {
		why = append(why, msg.Sprintf("プロセス %d (%s) が %s を使用中", "process %d (%s) holds %s", h.PID, h.Command, h.Path))
	}
	for _, m := range e.Submounts {
		why = append(why, msg.Sprintf("%s がマウントされています", "%s is mounted inside", m))
	}
	if len(why) == 0 {
		why = append(why, msg.T("使用中のプロセスは特定できません", "no holding process found"))
	}
	list := why[0]
	for _, w := range why[1:] {
		list = msg.T(list.JA+"、"+w.JA, list.EN+"; "+w.EN)
	}
	return msg.In(msg.Errorf("媒体 %s のマウント %s を外せません: %s。終了を待つか停止してから再実行してください(マウントは残っています): %w",
		"cannot unmount medium %s at %s: busy: %s; wait for or stop it, then retry (still mounted): %w",
		e.Medium, e.Dir, list, e.Err), l)
}

func (e *BusyError) Unwrap() error { return e.Err }

// DetachError: some detach steps failed; Report says which.
type DetachError struct {
	Report DetachReport
}

func (e *DetachError) Error() string { return e.Localize(msg.Both) }

// Localize lists the failed steps, in l.
func (e *DetachError) Localize(l msg.Lang) string {
	var f []string
	for _, s := range e.Report.Steps {
		if s.Status == StepFailed {
			f = append(f, s.Step+": "+s.Detail.Localize(l))
		}
	}
	failed := msg.Plain(strings.Join(f, "; "))
	return msg.Sprintf("媒体 %s の切り離し手順の一部が失敗しました: %s", "medium %s: detach steps failed: %s",
		e.Report.Medium, failed).Localize(l)
}

func (e *DetachError) Unwrap() []error {
	var out []error
	for _, s := range e.Report.Steps {
		if s.Err != nil {
			out = append(out, s.Err)
		}
	}
	return out
}

// StillPresentError: after power-off the medium is still visible. The
// caller must NOT record the medium as offline.
type StillPresentError struct {
	Medium  string
	Present []string // what is still there, e.g. "sdb (block device)", "USB device 1-1.2"
	Timeout time.Duration
}

func (e *StillPresentError) Error() string { return e.Localize(msg.Both) }

// Localize says what is still there, in l.
func (e *StillPresentError) Localize(l msg.Lang) string {
	return msg.Sprintf("媒体 %s は電源切断後 %s たっても接続されたままです(%s)。オフラインではありません。リレーと配線を点検してください",
		"medium %s is still present %s after power-off (%s): it is NOT offline: check the relay and the wiring",
		e.Medium, e.Timeout, strings.Join(e.Present, ", ")).Localize(l)
}

// DiskFullError: the medium ran out of space.
type DiskFullError struct {
	Medium string
	Dir    string
	Space  Space // zero when statfs failed
	Err    error
}

func (e *DiskFullError) Error() string { return e.Localize(msg.Both) }

// Localize says how full the medium is and what to do, in l.
func (e *DiskFullError) Localize(l msg.Lang) string {
	sp := ""
	if e.Space.Total > 0 {
		sp = fmt.Sprintf(" (%s / %s)", bytesize.Format(e.Space.Avail), bytesize.Format(e.Space.Total))
	}
	return msg.In(msg.Errorf("媒体の空き容量がありません: %s%s: 古い世代の整理(prune)を確認するか、容量の大きい媒体に交換してください: %w",
		"the medium is full: %s%s: check that old generations are pruned, or use a larger medium: %w", e.Medium, sp, e.Err), l)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// IsDiskFull reports whether err means the medium is out of space: ENOSPC
// or EDQUOT from a syscall, or restic's message for them (restic runs as a
// separate process, so its errors arrive as text).
func IsDiskFull(err error) bool {
	if err == nil {
		return false
	}
	var df *DiskFullError
	if errors.As(err, &df) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT) {
		return true
	}
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "no space left on device") || strings.Contains(m, "disk quota exceeded")
}
