package ledger

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Kind names what an entry records. The ledger is the contract with the
// auditors, so every kind danzen writes is declared here, each with the
// type of its data (Kinds); Append refuses any other kind, and Decode
// reads a kind's data only into its own type.
type Kind string

// Power and proof of the cut: the evidence that a medium was offline.
const (
	KindRelayCommand       Kind = "relay.command"        // a relay was switched; data RelayEvent
	KindRelaySense         Kind = "relay.sense"          // a sense input was read; data RelayEvent
	KindPowerOn            Kind = "power.on"             // the medium is powered/connected; data PowerOnData
	KindPowerOffVerified   Kind = "power.off.verified"   // cut and verified offline; data CutData
	KindPowerOffUnverified Kind = "power.off.unverified" // cut attempted, not verified: still counted connected; data CutData
	KindInterlock          Kind = "interlock"            // the coil-supply timer was checked (wiring test) or matched against a cycle; data InterlockData
	KindDeviceAppear       Kind = "device.appear"        // the medium's device appeared (declared, not written today)
	KindDeviceGone         Kind = "device.gone"          // the medium's device disappeared after the cut; no data
	KindMount              Kind = "mount"                // the repository is reachable; data MountData
	KindUnmount            Kind = "unmount"              // the medium was made safe to cut; no data
	KindLockVerified       Kind = "lock.verified"        // an object-locked medium's immutability was proven; data LockEvidence
	KindLockFailed         Kind = "lock.failed"          // ... and was found wanting: NOT offline; data LockEvidence
	KindLockExtended       Kind = "lock.extended"        // locks of objects kept snapshots need were extended; data LockExtendedData
)

// The disk driver's steps (media/disk), each with data DiskEvent.
const (
	KindDiskWaiting      Kind = "disk.waiting"
	KindDiskAppeared     Kind = "disk.appeared"
	KindDiskMismatch     Kind = "disk.mismatch" // a disk that is not this medium was seen
	KindDiskNotAppeared  Kind = "disk.not-appeared"
	KindDiskMounted      Kind = "disk.mounted"
	KindDiskRefused      Kind = "disk.refused" // identity or media-ID check failed; nothing written
	KindDiskPrepared     Kind = "disk.prepared"
	KindDiskUnmounted    Kind = "disk.unmounted"
	KindDiskDetachStep   Kind = "disk.detach-step"
	KindDiskGone         Kind = "disk.gone"
	KindDiskStillPresent Kind = "disk.still-present"
)

// The tape driver's operations (media/tape), each with data TapeEvent.
const (
	KindTapeLabel   Kind = "tape.label"   // a blank tape was labelled
	KindTapeArchive Kind = "tape.archive" // an archive was written and verified
	KindTapeFull    Kind = "tape.full"    // the tape filled mid-archive
	KindTapeRestore Kind = "tape.restore" // archives were read back for a restore
	KindTapeEject   Kind = "tape.eject"   // the cartridge was unloaded
)

// KindOffsite: a removable medium was taken off-site or brought back, or
// a cycle passed over it while it was away; data OffsiteData.
const KindOffsite Kind = "medium.offsite"

// Backups, checks and retention.
const (
	KindCycleStart        Kind = "cycle.start"        // data CycleStartData
	KindPull              Kind = "pull"               // one source's pull: what it brought and what it left out; data PullData
	KindCycleEnd          Kind = "cycle.end"          // data CycleEndData
	KindCycleMissed       Kind = "cycle.missed"       // scheduled cycles did not run; data MissedData
	KindJobStart          Kind = "job.start"          // a person started a cycle; no data
	KindJobInterrupted    Kind = "job.interrupted"    // at start: a job the previous run never ended; data JobInterruptedData
	KindSnapshot          Kind = "snapshot"           // a restic snapshot was written; data SnapshotData
	KindCheck             Kind = "check"              // restic check ran; data CheckData
	KindForget            Kind = "forget"             // retention removed snapshots; data ForgetData
	KindForgetPaused      Kind = "forget.paused"      // pruning skipped while an anomaly is open; data ForgetPausedData
	KindPruneUnreferenced Kind = "prune.unreferenced" // data no snapshot uses was removed; no data
	KindRecoveryKit       Kind = "recovery.kit"       // the recovery kit (restic, recovery sheet) was written to a medium, or not; data RecoveryKitData
	KindError             Kind = "error"              // a step failed; data ErrorData
	KindAnomaly           Kind = "source.anomaly"     // an export looked like ransomware; data AnomalyData
	KindAnomalyAck        Kind = "source.anomaly.ack" // a person acknowledged it; data AnomalyData
)

// Restores and drills.
const (
	KindRestore         Kind = "restore"                // a restore ended (ok or not); data RestoreData
	KindDrill           Kind = "drill"                  // a restore drill ended (訓練記録); data RestoreData with Drill set
	KindDrillMissed     Kind = "drill.missed"           // scheduled drills did not run; data MissedData
	KindExercise        Kind = "bcp.exercise"           // staff recorded a BCP 訓練・演習 on the page; data ExerciseData
	KindSendBackStart   Kind = "restore.sendback.start" // data SendBackStartData
	KindSendBack        Kind = "restore.sendback"       // data SendBackData
	KindRestoreRemoved  Kind = "restore.removed"        // a restored copy was deleted; no data
	KindRestoreDownload Kind = "restore.download"       // a restored file was downloaded from the page; data RestoreDownloadData
)

// The WAN-edge self-scan.
const (
	KindScan           Kind = "scan"            // a self-scan ended (ok or not); data ScanData
	KindRegisterChange Kind = "register.change" // the register of connection points was edited; data RegisterChangeData
	KindFeedChange     Kind = "scan.feed"       // a newer known-exploited feed was uploaded; data FeedChangeData
	KindTargetConfirm  Kind = "scan.confirm"    // a vendor admin confirmed a global address as the hospital's; data TargetConfirmData
)

// The gateway itself: configuration, secrets, alerts, the ledger.
const (
	KindConfigChange    Kind = "config.change"    // data ConfigChangeData
	KindGuarded         Kind = "guarded"          // a guarded change (password typed again, or a shortening held for its waiting period); data GuardedData
	KindUpdate          Kind = "update"           // a signed update was written and switched to; data UpdateData
	KindUpdateRefused   Kind = "update.refused"   // an update was refused or failed; data UpdateData
	KindConfigFallback  Kind = "config.fallback"  // config.json was damaged and the previous one used; no data
	KindHostKeyPinned   Kind = "hostkey.pinned"   // a host key was pinned after a person compared it; data HostKeyPinnedData
	KindHostKeyReplaced Kind = "hostkey.replaced" // a CHANGED host key replaced the pinned one after a person compared both; data HostKeyReplacedData
	KindSecretReplaced  Kind = "secret.replaced"  // a secret file was replaced (never its content); data SecretReplacedData
	KindCertReplaced    Kind = "tls.cert.replace" // the page's certificate was replaced; data CertReplacedData
	KindAlertFailed     Kind = "alert.failed"     // an alert could not be sent; data AlertFailedData
	KindInterrupted     Kind = "interrupted"      // written by Open after a torn line; data InterruptedData
	KindLedgerVerified  Kind = "ledger.verified"  // the whole chain was verified (daily); data LedgerVerifiedData
	KindClock           Kind = "clock"            // how the clock is set changed (NTP reached or lost, RTC used); data ClockData
	KindNetworkChange   Kind = "network.change"   // the gateway's address, DNS, NTP servers or hostname changed; data NetworkData
	KindNetworkRevert   Kind = "network.revert"   // a network change was rolled back (page not reached in time); data NetworkData
	KindCommission      Kind = "commission.step"  // a commissioning step was done or redone on the page; data CommissionData
	KindAlertTest       Kind = "alert.test"       // a test mail or webhook was sent; data AlertTestData
	KindLedgerExport    Kind = "ledger.export"    // the ledger was downloaded from the page; data LedgerExportData
)

// Accounts on the page (package auth); the message says what happened,
// never a password or the setup code. No data.
const (
	KindAuthSetupIssued  Kind = "auth.setup.issued"
	KindAuthSetupUsed    Kind = "auth.setup.used"
	KindAuthSetupRefused Kind = "auth.setup.refused"
	KindAuthLogin        Kind = "auth.login"
	KindAuthLoginFailed  Kind = "auth.login.failed"
	KindAuthLockout      Kind = "auth.lockout"
	KindAuthLogout       Kind = "auth.logout"
	KindAuthUserAdd      Kind = "auth.user.add"
	KindAuthUserRemove   Kind = "auth.user.remove"
	KindAuthUserRole     Kind = "auth.user.role"
	KindAuthUserPassword Kind = "auth.user.password"
)

// KindInfo is one kind of the vocabulary and the type of its data.
type KindInfo struct {
	Kind Kind
	// Data is the zero value of the kind's data type; nil when the kind
	// carries no data.
	Data any
}

// Kinds is the whole vocabulary, in the order of the declarations above.
func Kinds() []KindInfo {
	none := func(ks ...Kind) []KindInfo {
		out := make([]KindInfo, len(ks))
		for i, k := range ks {
			out[i] = KindInfo{Kind: k}
		}
		return out
	}
	with := func(data any, ks ...Kind) []KindInfo {
		out := make([]KindInfo, len(ks))
		for i, k := range ks {
			out[i] = KindInfo{Kind: k, Data: data}
		}
		return out
	}
	var all []KindInfo
	for _, part := range [][]KindInfo{
		with(RelayEvent{}, KindRelayCommand, KindRelaySense),
		with(PowerOnData{}, KindPowerOn),
		with(CutData{}, KindPowerOffVerified, KindPowerOffUnverified),
		with(InterlockData{}, KindInterlock),
		none(KindDeviceAppear, KindDeviceGone),
		with(MountData{}, KindMount),
		none(KindUnmount),
		with(LockEvidence{}, KindLockVerified, KindLockFailed),
		with(LockExtendedData{}, KindLockExtended),
		with(DiskEvent{}, KindDiskWaiting, KindDiskAppeared, KindDiskMismatch, KindDiskNotAppeared, KindDiskMounted,
			KindDiskRefused, KindDiskPrepared, KindDiskUnmounted, KindDiskDetachStep, KindDiskGone, KindDiskStillPresent),
		with(TapeEvent{}, KindTapeLabel, KindTapeArchive, KindTapeFull, KindTapeRestore, KindTapeEject),
		with(OffsiteData{}, KindOffsite),
		with(CycleStartData{}, KindCycleStart),
		with(PullData{}, KindPull),
		with(CycleEndData{}, KindCycleEnd),
		with(MissedData{}, KindCycleMissed),
		none(KindJobStart),
		with(JobInterruptedData{}, KindJobInterrupted),
		with(SnapshotData{}, KindSnapshot),
		with(CheckData{}, KindCheck),
		with(ForgetData{}, KindForget),
		with(ForgetPausedData{}, KindForgetPaused),
		none(KindPruneUnreferenced),
		with(RecoveryKitData{}, KindRecoveryKit),
		with(ErrorData{}, KindError),
		with(AnomalyData{}, KindAnomaly, KindAnomalyAck),
		with(RestoreData{}, KindRestore, KindDrill),
		with(MissedData{}, KindDrillMissed),
		with(ExerciseData{}, KindExercise),
		with(SendBackStartData{}, KindSendBackStart),
		with(SendBackData{}, KindSendBack),
		none(KindRestoreRemoved),
		with(RestoreDownloadData{}, KindRestoreDownload),
		with(ScanData{}, KindScan),
		with(RegisterChangeData{}, KindRegisterChange),
		with(FeedChangeData{}, KindFeedChange),
		with(TargetConfirmData{}, KindTargetConfirm),
		with(ConfigChangeData{}, KindConfigChange),
		with(GuardedData{}, KindGuarded),
		with(UpdateData{}, KindUpdate, KindUpdateRefused),
		none(KindConfigFallback),
		with(HostKeyPinnedData{}, KindHostKeyPinned),
		with(HostKeyReplacedData{}, KindHostKeyReplaced),
		with(SecretReplacedData{}, KindSecretReplaced),
		with(CertReplacedData{}, KindCertReplaced),
		with(AlertFailedData{}, KindAlertFailed),
		with(InterruptedData{}, KindInterrupted),
		with(LedgerVerifiedData{}, KindLedgerVerified),
		with(ClockData{}, KindClock),
		with(NetworkData{}, KindNetworkChange, KindNetworkRevert),
		with(CommissionData{}, KindCommission),
		with(AlertTestData{}, KindAlertTest),
		with(LedgerExportData{}, KindLedgerExport),
		none(KindAuthSetupIssued, KindAuthSetupUsed, KindAuthSetupRefused, KindAuthLogin, KindAuthLoginFailed,
			KindAuthLockout, KindAuthLogout, KindAuthUserAdd, KindAuthUserRemove, KindAuthUserRole, KindAuthUserPassword),
	} {
		all = append(all, part...)
	}
	return all
}

// Lookup returns the declaration of k.
func Lookup(k Kind) (KindInfo, bool) {
	ki, ok := kindIndex()[k]
	return ki, ok
}

// kindIndex is Kinds by name, built once: every append and every typed
// read looks a kind up. It is never changed after it is built.
var kindIndex = sync.OnceValue(func() map[Kind]KindInfo {
	m := map[Kind]KindInfo{}
	for _, ki := range Kinds() {
		m[ki.Kind] = ki
	}
	return m
})

// RelayEvent is the data of KindRelayCommand and KindRelaySense: one
// command or sense reading as the relay package reports it.
type RelayEvent struct {
	Time      time.Time `json:"time"`
	Relay     string    `json:"relay"`
	Kind      string    `json:"kind"` // "check", "command" or "sense" (package relay)
	Want      string    `json:"want"` // "on", "off"
	Got       string    `json:"got,omitempty"`
	Verified  bool      `json:"verified"`
	Simulated bool      `json:"simulated,omitempty"`
	Note      msg.Text  `json:"note,omitzero"` // why a reading is not a proof
	Err       msg.Text  `json:"err,omitzero"`
	// On is the form tests wrote before RelayEvent existed ({"on": true});
	// no release of danzen wrote it.
	On bool `json:"on,omitempty"`
}

// PowerOnData is the data of KindPowerOn.
type PowerOnData struct {
	Relay     string `json:"relay"`
	Verified  bool   `json:"verified"`
	Simulated bool   `json:"simulated"`
	Sense     string `json:"sense"`
}

// InterlockData is the data of KindInterlock: what is known of the
// hardware interlock timer in the relay coils' supply. Use "wiring": the
// wiring test tried to power the relay outside the window (Checked) and
// the sense stayed off (Held), or not. Use "cycle": the cycle started
// Inside the window or not, and the schedule as configured runs only
// inside it (ScheduleFits). Use "power": a relay reached ON outside the
// window, so the timer let power through (Held false).
type InterlockData struct {
	Use          string    `json:"use"`                // "wiring", "cycle" or "power"
	Relays       []string  `json:"relays"`             // the relays behind the timer that this is about
	Window       msg.Text  `json:"window"`             // as configured, e.g. 01:00–05:00 (mon, …)
	Inside       bool      `json:"inside"`             // the time was inside the window
	Checked      bool      `json:"checked"`            // the timer was tried (outside the window)
	Held         bool      `json:"held"`               // the sense stayed off while it was tried
	ScheduleFits bool      `json:"schedule_fits"`      // cycle: every scheduled start is inside the window
	Sense        string    `json:"sense,omitempty"`    // the sense reading when tried
	NextOpen     time.Time `json:"next_open,omitzero"` // when the window opens next (outside it)
}

// CutData is the data of KindPowerOffVerified and KindPowerOffUnverified:
// the evidence gathered for the cut. Summarize reads only the kind; the
// fields are for the auditor.
type CutData struct {
	Relay      string `json:"relay,omitempty"`
	SenseOff   bool   `json:"sense_off"`         // sense input reads OFF
	DeviceGone bool   `json:"device_gone"`       // block device / drive gone
	Ejected    bool   `json:"ejected,omitempty"` // RDX cartridge or tape unloaded
	ElapsedMS  int64  `json:"elapsed_ms,omitempty"`
	// Reason says why the cut could not be verified.
	Reason msg.Text `json:"reason,omitzero"`
	// Immutable: the medium's Object Lock was proven in this session, so
	// it is offline by immutability, not by a power cut alone.
	Immutable bool `json:"immutable,omitempty"`
	// Simulated: the relay only simulates; such a medium is never offline.
	Simulated bool `json:"simulated,omitempty"`
}

// MountData is the data of KindMount.
type MountData struct {
	Repository string `json:"repository"`
}

// LockEvidence is the data of KindLockVerified and KindLockFailed: what
// was read back from an object-locked bucket (media/s3).
type LockEvidence struct {
	Endpoint         string `json:"endpoint"`
	Bucket           string `json:"bucket"`
	Prefix           string `json:"prefix,omitempty"`
	Versioning       string `json:"versioning"`  // "Enabled" is required
	ObjectLock       string `json:"object_lock"` // "Enabled" is required
	Mode             string `json:"mode,omitempty"`
	RetentionDays    int    `json:"retention_days"`
	MinRetentionDays int    `json:"min_retention_days"`
	CanaryKey        string `json:"canary_key,omitempty"`
	CanaryVersion    string `json:"canary_version,omitempty"`
	// DeleteRefused is the server's answer to deleting the canary version.
	DeleteRefused string `json:"delete_refused,omitempty"`
	// Setting names what is wrong when verification failed.
	Setting string   `json:"setting,omitempty"`
	Reason  msg.Text `json:"reason,omitzero"`
}

// LockExtendedData is the data of KindLockExtended.
type LockExtendedData struct {
	Extended int  `json:"extended"`
	OK       bool `json:"ok"`
}

// DetachStatus is how one detach step of a disk ended.
type DetachStatus string

// DiskEvent is the data of the disk.* kinds: one step of a disk's life.
type DiskEvent struct {
	Time    time.Time    `json:"time"`
	Medium  string       `json:"medium"`
	Kind    Kind         `json:"kind"`
	Device  string       `json:"device,omitempty"` // e.g. "sdb1"
	Step    string       `json:"step,omitempty"`   // detach step
	Status  DetachStatus `json:"status,omitempty"` // detach step status
	Message msg.Text     `json:"message,omitzero"`
}

// TapeEvent is the data of the tape.* kinds: one tape operation.
type TapeEvent struct {
	Kind     Kind     `json:"kind"`
	Medium   string   `json:"medium"`
	Tape     string   `json:"tape,omitempty"`
	File     int      `json:"file,omitempty"`
	Files    int      `json:"files,omitempty"` // repository files in the archive(s)
	Bytes    int64    `json:"bytes,omitempty"`
	Baseline bool     `json:"baseline,omitempty"`
	Message  msg.Text `json:"message,omitzero"`
}

// CycleStartData is the data of KindCycleStart.
type CycleStartData struct {
	Cycle string `json:"cycle"`
}

// CycleEndData is the data of KindCycleEnd.
type CycleEndData struct {
	Cycle string `json:"cycle"`
	OK    bool   `json:"ok"`
}

// MissedData is the data of KindCycleMissed and KindDrillMissed.
type MissedData struct {
	Missed   int       `json:"missed"`
	FirstDue time.Time `json:"first_due"`
	Now      time.Time `json:"now"`
}

// JobInterruptedData is the data of KindJobInterrupted.
type JobInterruptedData struct {
	Cycle    string   `json:"cycle"`     // a cycle started and never ended, or ""
	Media    []string `json:"media"`     // media powered and never cut
	SendBack string   `json:"send_back"` // host:dir of an unfinished send-back, or ""
}

// SnapshotData is the data of KindSnapshot.
type SnapshotData struct {
	Cycle      string `json:"cycle"`
	Source     string `json:"source"`
	Snapshot   string `json:"snapshot"`
	DataAdded  int64  `json:"data_added"`
	TotalBytes int64  `json:"total_bytes"`
	Files      int    `json:"files"`
}

// CheckData is the data of KindCheck. Summarize reads OK; a check entry
// without data or with OK false counts as failed.
type CheckData struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// ForgetData is the data of KindForget: the snapshots retention removed
// from a medium (full IDs), so the ledger knows which ones remain.
type ForgetData struct {
	Removed []string `json:"removed"`
	Kept    int      `json:"kept"`
}

// ForgetPausedData is the data of KindForgetPaused: the open anomalies.
type ForgetPausedData struct {
	Anomalies []string `json:"anomalies"`
}

// ErrorData is the data of KindError: the step that failed.
type ErrorData struct {
	Phase  string `json:"phase"`
	Source string `json:"source,omitempty"`
}

// AnomalySample is what one pull of a source looked like (backup's
// ransomware guard).
type AnomalySample struct {
	Time         time.Time `json:"time"`
	Cycle        string    `json:"cycle,omitempty"`
	FilesChanged int       `json:"files_changed"` // new, modified or removed
	FilesTotal   int       `json:"files_total"`
	BytesChanged int64     `json:"bytes_changed"` // size of new and modified files
	BytesTotal   int64     `json:"bytes_total"`
	// ChangeRatio is BytesChanged over the larger of the previous and
	// the current total (removed files count as changed). -1: no previous
	// manifest, nothing to compare.
	ChangeRatio float64 `json:"change_ratio"`
	// Entropy is the Shannon entropy, in bits per byte, of samples of
	// the changed files, weighted by their size. -1: nothing changed.
	Entropy      float64 `json:"entropy"`
	SampledBytes int64   `json:"sampled_bytes"`
}

// AnomalyData is the data of KindAnomaly and KindAnomalyAck: an export
// flagged as possibly encrypted by ransomware.
type AnomalyData struct {
	ID       string        `json:"id"`
	Source   string        `json:"source"`
	Detected time.Time     `json:"detected"`
	Sample   AnomalySample `json:"sample"`
	// Baseline is what the source's history made normal.
	BaselineRatio   float64    `json:"baseline_ratio"`
	BaselineEntropy float64    `json:"baseline_entropy"`
	Reasons         []msg.Text `json:"reasons"`
	// Set when acknowledged.
	AckedBy string    `json:"acked_by,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// Summary says in one line which source was flagged and why.
func (a AnomalyData) Summary() msg.Text {
	var why msg.Text
	for i, r := range a.Reasons {
		sep := "。"
		if i == 0 {
			sep = ""
		}
		why = msg.T(why.JA+sep+r.JA, why.EN+map[bool]string{true: "; ", false: ""}[i > 0]+r.EN)
	}
	return msg.Sprintf("取得元 %s: %s", "source %s: %s", a.Source, why)
}

// RestoreData is the data of KindRestore and KindDrill: one restore or
// drill, what it restored, how it was verified and how long it took. A
// drill's entry is the hospital's 訓練記録 (drill record).
type RestoreData struct {
	ID       string    `json:"id"`
	Drill    bool      `json:"drill,omitempty"`
	Medium   string    `json:"medium"`
	Snapshot string    `json:"snapshot"`         // restic snapshot ID (short or full)
	SnapTime time.Time `json:"snapshot_time"`    // when the snapshot was taken
	Source   string    `json:"source,omitempty"` // the e-chart source the snapshot holds
	Dest     string    `json:"destination"`      // "gateway:<dir>", "sftp:<host>:<dir>", "scratch", "download"
	Actor    string    `json:"actor,omitempty"`  // who asked for it
	Started  time.Time `json:"started"`
	// Durations in milliseconds, measured from the request.
	PowerOnMS     int64      `json:"power_on_ms"`          // request → repository attached
	FirstByteMS   int64      `json:"first_byte_ms"`        // request → first restored byte on disk
	RestoreMS     int64      `json:"restore_ms"`           // request → every file restored and verified (the RTO)
	TotalMS       int64      `json:"total_ms"`             // request → medium cut and verified
	Files         int        `json:"files"`                // files restored
	Bytes         int64      `json:"bytes"`                // bytes restored
	FilesVerified int        `json:"files_verified"`       // files whose SHA-256 matched the pull manifest
	Mismatches    []Mismatch `json:"mismatches,omitempty"` // files that differ from the manifest or are missing
	CheckRan      bool       `json:"check_ran,omitempty"`  // drill: restic check --read-data ran
	CheckOK       bool       `json:"check_ok,omitempty"`
	Damaged       []string   `json:"damaged_snapshots,omitempty"` // snapshots restic check names as damaged
	CutVerified   bool       `json:"cut_verified"`
	OK            bool       `json:"ok"`
	Error         msg.Text   `json:"error,omitzero"`
}

// RecoveryKitData is the data of KindRecoveryKit: the folder
// danzen-recovery/ on a medium (package recoverykit) after a session that
// refreshed it. OK false: the kit is missing or not (wholly) written, and
// the entry's message says why; the backup itself is not failed by it.
type RecoveryKitData struct {
	OK        bool     `json:"ok"`
	Use       string   `json:"use"`                 // "cycle" or "prepare"
	Version   string   `json:"version,omitempty"`   // restic's
	Written   []string `json:"written,omitempty"`   // files written (new or changed)
	Unchanged int      `json:"unchanged,omitempty"` // files already there as they are
	Sums      string   `json:"sums,omitempty"`      // SHA-256 of the medium's SHA256SUMS
}

// ExerciseData is the data of KindExercise: a 訓練・演習 under the
// hospital's BCP as staff recorded it, with the newest automatic restore
// measurement (KindDrill) attached as it stood then.
type ExerciseData struct {
	Date         string   `json:"date"` // YYYY-MM-DD, the day it was held
	Participants []string `json:"participants"`
	Scenario     string   `json:"scenario"`
	Problems     string   `json:"problems,omitempty"`     // what went wrong
	Improvements string   `json:"improvements,omitempty"` // what will be changed
	// Measurement is the newest restore measurement's entry and data,
	// absent when none was recorded yet.
	MeasurementSeq uint64       `json:"measurement_seq,omitempty"`
	Measurement    *RestoreData `json:"measurement,omitempty"`
}

// SendBackStartData is the data of KindSendBackStart.
type SendBackStartData struct {
	Restore string `json:"restore"`
	Target  string `json:"target"`
	Host    string `json:"host"`
	Dir     string `json:"dir"`
}

// SendBackData is the data of KindSendBack.
type SendBackData struct {
	Restore string   `json:"restore"`
	Target  string   `json:"target"`
	Dir     string   `json:"dir"`
	Files   int      `json:"files"`
	Bytes   int64    `json:"bytes"`
	Error   msg.Text `json:"error,omitzero"`
}

// RestoreDownloadData is the data of KindRestoreDownload.
type RestoreDownloadData struct {
	Restore string `json:"restore"`
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`
}

// ScanData is the data of KindScan: one WAN-edge self-scan (package
// netprobe), the report it stored and what it found.
type ScanData struct {
	Report      string    `json:"report"` // the stored report's ID ("" when the scan failed)
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Targets     int       `json:"targets"`      // connection points in the register
	Addresses   int       `json:"addresses"`    // addresses scanned
	OpenPorts   int       `json:"open_ports"`   // open TCP and answering UDP ports
	Cautions    int       `json:"cautions"`     // 注意 findings
	NewCautions int       `json:"new_cautions"` // 注意 not in the previous scan (all of them on a first scan)
	// Anyway: started by hand while another job held the gateway.
	Anyway bool     `json:"anyway,omitempty"`
	Error  msg.Text `json:"error,omitzero"`
}

// RegisterChangeData is the data of KindRegisterChange.
type RegisterChangeData struct {
	Change  string   `json:"change"` // what was done: "edit", "import", "undo" …
	Points  int      `json:"points"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// FeedChangeData is the data of KindFeedChange.
type FeedChangeData struct {
	Date    string `json:"date"`
	Entries int    `json:"entries"`
	SHA256  string `json:"sha256"`
}

// TargetConfirmData is the data of KindTargetConfirm: who confirmed is
// the entry's actor, when its time.
type TargetConfirmData struct {
	Point    string `json:"point"`              // the register's ID
	Addr     string `json:"addr"`               // the global address confirmed
	Previous string `json:"previous,omitempty"` // the address confirmed before for this point, if it changed
	Contract string `json:"contract,omitempty"` // the line's contract ID, if given
}

// ConfigChangeData is the data of KindConfigChange: the fields changed.
type ConfigChangeData struct {
	Changed []string `json:"changed"`
}

// GuardedData is the data of KindGuarded: a change that could destroy
// backups or open the way to the media, with where it came from. Op
// names it ("medium.delete", "user.delete", "relay.change",
// "retention.change", "target.change", "hostkey.accept"; a shortening of
// what is kept: "shorten.pending", "shorten.applied", "shorten.cancelled",
// "shorten.failed").
type GuardedData struct {
	Op   string `json:"op"`
	From string `json:"from,omitempty"` // the client's address
	// Target names what it touched (a medium, user, relay, target).
	Target  string   `json:"target,omitempty"`
	Changes []string `json:"changes,omitempty"`
	// ID and Effective identify a held shortening and when it applies.
	ID        string    `json:"id,omitempty"`
	Effective time.Time `json:"effective,omitzero"`
}

type originKey struct{}

// WithOrigin returns ctx carrying the client address a change came from,
// so the code that records it can say from where.
func WithOrigin(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, originKey{}, addr)
}

// Origin is the client address WithOrigin set, or "".
func Origin(ctx context.Context) string {
	s, _ := ctx.Value(originKey{}).(string)
	return s
}

// HostKeyPinnedData is the data of KindHostKeyPinned. One of Source and
// Target names whose key it is.
type HostKeyPinnedData struct {
	Source      string `json:"source,omitempty"`
	Target      string `json:"target,omitempty"` // a send-back target
	Host        string `json:"host"`
	Fingerprint string `json:"fingerprint"`
	Type        string `json:"type"`
}

// SecretReplacedData is the data of KindSecretReplaced: which secret file
// was replaced (its content is never recorded). One of Source, Target and
// Medium names whose it is.
type SecretReplacedData struct {
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
	Medium string `json:"medium,omitempty"`
	File   string `json:"file"`
	// What names an S3 secret ("secret_key", "ca" …).
	What string `json:"what,omitempty"`
	// An SSH key: its public key's fingerprint, and whether the gateway
	// generated it (else it was pasted).
	PublicKeyFingerprint string `json:"public_key_fingerprint,omitempty"`
	Generated            bool   `json:"generated,omitempty"`
}

// CertReplacedData is the data of KindCertReplaced.
type CertReplacedData struct {
	OldSHA256 string `json:"old_sha256"`
	NewSHA256 string `json:"new_sha256"`
	Subject   string `json:"subject"`
}

// AlertFailedData is the data of KindAlertFailed.
type AlertFailedData struct {
	Alert string `json:"alert"` // the alert's kind (package alert)
	Key   string `json:"key"`
}

// InterruptedData is the data of the KindInterrupted entry that Open writes
// after moving a torn line aside.
type InterruptedData struct {
	TornFile   string `json:"torn_file"`
	TornBytes  int64  `json:"torn_bytes"`
	TornOffset int64  `json:"torn_offset"`
	TornSHA256 string `json:"torn_sha256"`
}

// LedgerVerifiedData is the data of KindLedgerVerified: one verification
// of the whole chain and head.json.
type LedgerVerifiedData struct {
	OK         bool     `json:"ok"`
	Entries    int      `json:"entries"` // lines checked
	LastSeq    uint64   `json:"last_seq"`
	LastHash   string   `json:"last_hash"`
	DurationMS int64    `json:"duration_ms"`
	Problem    msg.Text `json:"problem,omitzero"` // the first finding when not OK
}

// LedgerExportData is the data of KindLedgerExport: the entries the
// downloaded copy holds, up to this entry's own predecessor.
type LedgerExportData struct {
	LastSeq  uint64 `json:"last_seq"`
	LastHash string `json:"last_hash"`
	Bytes    int64  `json:"bytes"`
}

// Mismatch is one restored file that is not what was pulled.
type Mismatch struct {
	Path string   `json:"path"`
	Why  msg.Text `json:"why"`
}

// Localize reads "path: why" in l.
func (m Mismatch) Localize(l msg.Lang) string {
	if m.Path == "" {
		return m.Why.Localize(l)
	}
	return m.Path + ": " + m.Why.Localize(l)
}

// UnmarshalJSON also reads the form written before mismatches were
// typed: one string "path: 日本語 / English", kept whole (a path may hold
// ": " and " / " itself, so it is not taken apart).
func (m *Mismatch) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = Mismatch{Why: msg.Plain(s)}
		return nil
	}
	type plain Mismatch
	return json.Unmarshal(b, (*plain)(m))
}

// PullData is the data of KindPull: one source's pull in a cycle, what it
// brought and, by reason, what it left out, so that nothing in the export
// is missing from a snapshot without it being on record.
type PullData struct {
	Cycle  string `json:"cycle,omitempty"`
	Source string `json:"source"`
	// OK: the pull ran to its end (files may still be left out).
	OK    bool     `json:"ok"`
	Error msg.Text `json:"error,omitzero"`
	// Pulled were transferred, Unchanged kept from the last pull, Removed
	// are gone from the export since; Staged is the whole set backed up.
	Pulled    PullCount `json:"pulled"`
	Unchanged PullCount `json:"unchanged"`
	Removed   PullCount `json:"removed"`
	Staged    PullCount `json:"staged"`
	// LeftOut lists what was not backed up, one entry per reason.
	LeftOut []PullLeftOut `json:"left_out,omitempty"`
}

// PullCount is a number of files and their bytes.
type PullCount struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// PullLeftOut is the files of one source left out for one reason.
type PullLeftOut struct {
	// Reason: "unsafe-name", "symlink", "special" (refused), "not-complete"
	// (pending under the completion rule), "changed" (during transfer),
	// "failed".
	Reason string   `json:"reason"`
	Count  int      `json:"count"`
	Names  []string `json:"names"` // at most MaxPullNames of them
}

// MaxPullNames bounds the names a pull record lists per reason.
const MaxPullNames = 100

// HostKeyReplacedData is the data of KindHostKeyReplaced: a host key that
// changed, replaced after a person compared both fingerprints; the retired
// key is trusted no more.
type HostKeyReplacedData struct {
	Source      string    `json:"source,omitempty"`
	Target      string    `json:"target,omitempty"` // a send-back target
	Host        string    `json:"host"`
	Retired     string    `json:"retired"`      // the retired key's fingerprint
	RetiredType string    `json:"retired_type"` // and its type
	PinnedAt    time.Time `json:"pinned_at,omitzero"`
	Fingerprint string    `json:"fingerprint"` // the new key's
	Type        string    `json:"type"`
}

// ClockData is the data of KindClock.
type ClockData struct {
	State ClockState `json:"state"`
	// Source names what set the clock: an NTP server, "rtc", or "".
	Source string `json:"source,omitempty"`
	// OffsetMS is how far the clock was moved when it was set, if known.
	OffsetMS int64 `json:"offset_ms,omitempty"`
}

// NetworkData is the data of KindNetworkChange and KindNetworkRevert: the
// settings now in force.
type NetworkData struct {
	Mode     string   `json:"mode"`              // "dhcp" or "static"
	Address  string   `json:"address,omitempty"` // CIDR: the static address, or the link-local fallback in DHCP mode
	Gateway  string   `json:"gateway,omitempty"`
	DNS      []string `json:"dns,omitempty"`
	NTP      []string `json:"ntp,omitempty"`
	Hostname string   `json:"hostname,omitempty"`
	// Previous is the address the change moved away from.
	Previous string `json:"previous,omitempty"`
}

// CommissionData is the data of KindCommission: one step of commissioning
// a new gateway on its page.
type CommissionData struct {
	Step string `json:"step"`           // "network", "source", "relay", "medium", "alerts", "first-cycle"
	Item string `json:"item,omitempty"` // the source, relay or medium the step was about
	OK   bool   `json:"ok"`
	// Skipped: the step does not apply here and was passed over on
	// purpose (alerts on a LAN with no mail server or webhook).
	Skipped bool     `json:"skipped,omitempty"`
	Detail  msg.Text `json:"detail,omitzero"`
}

// AlertTestData is the data of KindAlertTest.
type AlertTestData struct {
	Channel string   `json:"channel"` // "email" or "webhook"
	OK      bool     `json:"ok"`
	Error   msg.Text `json:"error,omitzero"`
}

// UpdateData is the data of KindUpdate and KindUpdateRefused: the bundle's
// build, board and signing key as its manifest states them (empty when
// the bundle was refused before its manifest could be trusted), why it
// was refused, and from where it was sent.
type UpdateData struct {
	Build   time.Time `json:"build,omitzero"`
	Arch    string    `json:"arch,omitempty"`
	Key     string    `json:"key,omitempty"`    // the signing key's fingerprint
	Running time.Time `json:"running,omitzero"` // the build that ran when it was sent
	Reason  string    `json:"reason,omitempty"` // bundle.Reason, or "write" for a failure while writing
	Client  string    `json:"client,omitempty"` // the address it was sent from
	Bytes   int64     `json:"bytes,omitempty"`  // what was read of it
}

// The actions of OffsiteData.
const (
	OffsiteAway     = "away"     // taken off-site: the cycle passes over it
	OffsiteReturned = "returned" // plugged in again: back in the rotation
	OffsiteSkipped  = "skipped"  // a cycle passed over it while it was away
)

// OffsiteData is the data of KindOffsite. At is when it happened as the
// person said (taken away, brought back) or the cycle ran; By is who
// carried the medium (Actor is who marked it on the page); Due is, while
// away, the date it must be back for the rotation to hold.
type OffsiteData struct {
	Action string    `json:"action"` // OffsiteAway, OffsiteReturned or OffsiteSkipped
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"`
	Client string    `json:"client,omitempty"` // the page's client address
	Note   string    `json:"note,omitempty"`   // where it is kept, the cartridge's label…
	Due    time.Time `json:"due,omitzero"`
}
