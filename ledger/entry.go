package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// GenesisHash is the prev of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxLineBytes bounds one stored line, so a damaged file cannot make a
// reader hold gigabytes in memory.
const MaxLineBytes = 1 << 20

// Kinds written by danzen. Callers may use other kinds; Summarize reads
// only the ones documented on it.
const (
	KindRelayCommand       = "relay.command" // a relay was switched; data RelayCommandData
	KindRelaySense         = "relay.sense"   // a sense input was read
	KindDeviceAppear       = "device.appear" // the medium's block device / tape drive appeared
	KindDeviceGone         = "device.gone"   // ... and disappeared
	KindMount              = "mount"
	KindUnmount            = "unmount"
	KindSnapshot           = "snapshot" // a restic snapshot was written to the medium
	KindCheck              = "check"    // a restic check ran; data CheckData
	KindError              = "error"
	KindCycleStart         = "cycle.start"
	KindCycleEnd           = "cycle.end"
	KindInterrupted        = "interrupted" // written by Open after a crash; data InterruptedData
	KindConfigChange       = "config.change"
	KindPowerOn            = "power.on"             // the medium is powered/connected; data PowerData
	KindPowerOffVerified   = "power.off.verified"   // cut and verified offline; data CutData
	KindPowerOffUnverified = "power.off.unverified" // cut attempted, not verified: still counted connected; data CutData
	KindForget             = "forget"               // retention removed snapshots; data ForgetData
	KindRestore            = "restore"              // a restore ended (ok or not); data RestoreData
	KindDrill              = "drill"                // a restore drill ended (ok or not); data RestoreData with Drill set
	KindLockVerified       = "lock.verified"        // an object-locked medium's immutability was read back and proven; data s3.Evidence
	KindLockFailed         = "lock.failed"          // ... and was found wanting: the medium is NOT offline; data s3.Evidence
	KindLockExtended       = "lock.extended"        // the locks of objects kept snapshots need were extended; data {"extended", "ok"}
	KindScan               = "scan"                 // a WAN-edge self-scan ended (ok or not); data ScanData
)

// ActorSystem is the actor of entries made by the appliance itself.
const ActorSystem = "system"

// Entry is one ledger record. Seq, Time, Prev and Hash are filled by Append;
// values the caller sets there are ignored.
type Entry struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Kind    string          `json:"kind"`
	Medium  string          `json:"medium,omitempty"`
	Actor   string          `json:"actor,omitempty"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash"`
}

// DecodeData unmarshals e.Data into v.
func (e Entry) DecodeData(v any) error {
	if len(e.Data) == 0 {
		return fmt.Errorf("ledger: entry seq %d has no data", e.Seq)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("ledger: entry seq %d data: %w", e.Seq, err)
	}
	return nil
}

// MarshalData encodes v for Entry.Data.
func MarshalData(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("ledger: encode data: %w", err)
	}
	return b, nil
}

// RelayCommandData is the data of KindRelayCommand. Summarize reads On.
type RelayCommandData struct {
	Relay string `json:"relay,omitempty"`
	On    bool   `json:"on"`
}

// PowerData is the data of KindPowerOn.
type PowerData struct {
	Relay string `json:"relay,omitempty"`
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
	Reason     string `json:"reason,omitempty"` // why the cut could not be verified
	// Immutable: the medium's Object Lock was proven in this session, so
	// it is offline by immutability, not by a power cut alone.
	Immutable bool `json:"immutable,omitempty"`
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
	PowerOnMS     int64    `json:"power_on_ms"`          // request → repository attached
	FirstByteMS   int64    `json:"first_byte_ms"`        // request → first restored byte on disk
	RestoreMS     int64    `json:"restore_ms"`           // request → every file restored and verified (the RTO)
	TotalMS       int64    `json:"total_ms"`             // request → medium cut and verified
	Files         int      `json:"files"`                // files restored
	Bytes         int64    `json:"bytes"`                // bytes restored
	FilesVerified int      `json:"files_verified"`       // files whose SHA-256 matched the pull manifest
	Mismatches    []string `json:"mismatches,omitempty"` // files that differ from the manifest or are missing
	CheckRan      bool     `json:"check_ran,omitempty"`  // drill: restic check --read-data ran
	CheckOK       bool     `json:"check_ok,omitempty"`
	Damaged       []string `json:"damaged_snapshots,omitempty"` // snapshots restic check names as damaged
	CutVerified   bool     `json:"cut_verified"`
	OK            bool     `json:"ok"`
	Error         string   `json:"error,omitempty"`
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
	Anyway bool   `json:"anyway,omitempty"`
	Error  string `json:"error,omitempty"`
}

// InterruptedData is the data of the KindInterrupted entry that Open writes
// after moving a torn line aside.
type InterruptedData struct {
	TornFile   string `json:"torn_file"`
	TornBytes  int64  `json:"torn_bytes"`
	TornOffset int64  `json:"torn_offset"`
	TornSHA256 string `json:"torn_sha256"`
}

// wireEntry fixes the member order of the stored line; Hash is empty (and
// so omitted) when encoding the canonical body.
type wireEntry struct {
	Seq     uint64          `json:"seq"`
	Time    string          `json:"time"`
	Kind    string          `json:"kind"`
	Medium  string          `json:"medium,omitempty"`
	Actor   string          `json:"actor,omitempty"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash,omitempty"`
}

const (
	hashMemberPrefix = `,"hash":"`
	hashSuffixLen    = len(hashMemberPrefix) + 64 + len(`"}`) // 75
)

// canonicalData makes Data deterministic: compact, keys sorted, numbers
// kept as written, null treated as absent.
func canonicalData(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("data is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data has content after the JSON value")
	}
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	return b, nil
}

// encodeLine returns the stored line (with "\n") and its hash.
func encodeLine(w wireEntry) ([]byte, string, error) {
	w.Hash = ""
	body, err := json.Marshal(w)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(body)+hashSuffixLen+1)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashMemberPrefix...)
	line = append(line, h...)
	line = append(line, `"}`...)
	line = append(line, '\n')
	return line, h, nil
}

// parsedLine is one stored line decoded; hashOK tells whether the stored
// hash matches the bytes.
type parsedLine struct {
	Entry
	hashOK bool
}

// parseLine decodes a stored line (without "\n") and checks its own hash.
// It does not check the chain.
func parseLine(line []byte) (parsedLine, error) {
	n := len(line)
	if n < hashSuffixLen+2 || line[0] != '{' ||
		string(line[n-hashSuffixLen:n-hashSuffixLen+len(hashMemberPrefix)]) != hashMemberPrefix ||
		string(line[n-2:]) != `"}` {
		return parsedLine{}, errors.New("does not end with the hash member")
	}
	stored := string(line[n-66 : n-2])
	if !isHex64(stored) {
		return parsedLine{}, errors.New("hash is not 64 lowercase hex digits")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var w wireEntry
	if err := dec.Decode(&w); err != nil {
		return parsedLine{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parsedLine{}, errors.New("content after the JSON object")
	}
	if w.Hash != stored {
		return parsedLine{}, errors.New("hash member is not the last member")
	}
	if w.Seq == 0 {
		return parsedLine{}, errors.New("seq missing or 0")
	}
	if w.Kind == "" {
		return parsedLine{}, errors.New("kind missing")
	}
	if !isHex64(w.Prev) {
		return parsedLine{}, errors.New("prev is not 64 lowercase hex digits")
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil || len(w.Time) == 0 || w.Time[len(w.Time)-1] != 'Z' {
		return parsedLine{}, fmt.Errorf("time %q is not RFC 3339 UTC", w.Time)
	}
	body := make([]byte, 0, n-hashSuffixLen+1)
	body = append(body, line[:n-hashSuffixLen]...)
	body = append(body, '}')
	sum := sha256.Sum256(body)
	var data json.RawMessage
	if len(w.Data) > 0 {
		data = append(json.RawMessage(nil), w.Data...)
	}
	return parsedLine{
		Entry: Entry{
			Seq: w.Seq, Time: t.UTC(), Kind: w.Kind, Medium: w.Medium, Actor: w.Actor,
			Message: w.Message, Data: data, Prev: w.Prev, Hash: w.Hash,
		},
		hashOK: hex.EncodeToString(sum[:]) == stored,
	}, nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validateNew checks the caller-supplied fields of an entry to append.
func validateNew(e Entry) error {
	if e.Kind == "" {
		return errors.New("kind is empty")
	}
	for name, s := range map[string]string{"kind": e.Kind, "medium": e.Medium, "actor": e.Actor, "message": e.Message} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%s is not valid UTF-8", name)
		}
	}
	return nil
}
